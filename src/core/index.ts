export { ArmorerError, ERROR_CODES, isArmorerError, type ErrorCode } from './errors.js';
export { armorerHome, expandHome } from './paths.js';
export { parseSize, formatSize } from './units.js';
