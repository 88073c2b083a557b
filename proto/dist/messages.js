// TypeScript shapes of the osiris.v1 messages as proto-loader decodes them
// (camelCase fields, 64-bit integers as numbers, defaults filled in, oneof
// name set). Kept beside the .proto files they mirror; a test round-trips each.
export {};
//# sourceMappingURL=messages.js.map