/** See build-web.mjs: builds public/assets/*.js and public/openapi.json. */
export function buildWeb(): Promise<void>;
