{
  "targets": [
    {
      "target_name": "callhook_media",
      "sources": ["native/media-transport.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
    }
  ]
}
