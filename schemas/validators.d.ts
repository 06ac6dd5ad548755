// Declarations for dist/schemas/validators.js, generated at build time by
// schemas/compile-validators.mjs from the vendored schemas.
import type { Validator } from './validator-types.js';
export declare const validateConfig: Validator;
/** The `process` object of a config (exec's process.json). */
export declare const validateProcess: Validator;
export declare const validateState: Validator;
export declare const validateFeatures: Validator;
export declare const validateImageConfig: Validator;
export declare const validateImageManifest: Validator;
export declare const validateImageIndex: Validator;
export declare const validateImageLayout: Validator;
export declare const validateDescriptor: Validator;
export declare const validateNsexecInit: Validator;
export declare const validateNsexecEvent: Validator;
