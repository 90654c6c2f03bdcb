import type { Plugin } from "vite";

export function withoutDanglingSourcemaps(): Plugin;
