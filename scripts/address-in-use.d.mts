/** See address-in-use.mjs: the address a line of wrangler's output says was in use, "" if it names none, else null. */
export function addressInUse(line: string): string | null;
/** See address-in-use.mjs: whether that address is `port`, or names none. */
export function isPort(address: string, port: number): boolean;
