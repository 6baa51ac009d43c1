// autocannon ships no types; the upload benchmark uses a small part of its API (see bench/upload.bench.ts).
declare module 'autocannon';
