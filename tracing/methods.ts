import { HTTP_METHODS } from "@cqi/http";

// HTTP methods the semantic conventions know (`@cqi/http`'s one list);
// anything else is `_OTHER`.
export const METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);
