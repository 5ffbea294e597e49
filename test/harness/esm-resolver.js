// kubernetes-models and @kubernetes-models/* publish ES modules only ("import" export condition).
// Jest runs this project as CommonJS, so for those packages alone we resolve with the "import"
// condition and let ts-jest transpile the files to CommonJS (see jest.config.js). Every other
// package keeps Jest's default (require) conditions.
const ESM_ONLY = /^(kubernetes-models|@kubernetes-models\/|is-cidr|cidr-regex)/;

module.exports = (request, options) => {
  const fromEsmPackage =
    /node_modules\/(kubernetes-models|@kubernetes-models|is-cidr|cidr-regex)\//.test(
      options.basedir,
    );
  if (ESM_ONLY.test(request) || (fromEsmPackage && !request.startsWith("."))) {
    return options.defaultResolver(request, {
      ...options,
      conditions: ["import", "default"],
    });
  }
  return options.defaultResolver(request, options);
};
