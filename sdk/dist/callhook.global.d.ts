// The global of the script-tag bundle (callhook.js): /// <reference types="@callhook/sdk/global" />
import type * as CallhookSdk from './callhook.mjs';
declare global {
  const Callhook: typeof CallhookSdk;
}
export {};
