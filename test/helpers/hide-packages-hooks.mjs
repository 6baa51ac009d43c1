// Module resolution hooks for hide-packages.mjs: a hidden package is ERR_MODULE_NOT_FOUND, with Node's own message.
let hidden = [];

export function initialize(data) {
  hidden = data;
}

export async function resolve(specifier, context, next) {
  if (hidden.includes(specifier)) {
    const e = new Error(`Cannot find package '${specifier}' imported from ${context.parentURL}`);
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}
