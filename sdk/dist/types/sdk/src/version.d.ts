/** The SDK's version, sent as `clientVersion` in `connection`; kept equal to sdk/package.json (a unit test checks). */
export declare const SDK_VERSION = "0.1.0";
