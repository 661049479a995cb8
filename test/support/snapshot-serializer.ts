/**
 * Jest snapshot serializer: replaces asset hashes (S3 keys, image tags, asset parameters) with a
 * placeholder so a dependency bump that changes a bundled asset does not churn every snapshot.
 */
const HASH = /[A-Fa-f0-9]{64}(\.zip|\.json|:[A-Za-z0-9_-]*)?/;

module.exports = {
  test: (val: unknown): boolean => typeof val === 'string' && HASH.test(val),
  // The replaced string no longer matches, so the printer does not come back here.
  serialize: (val: string, config: unknown, indentation: string, depth: number, refs: unknown, printer: Function): string =>
    printer(val.replace(new RegExp(HASH.source, 'g'), 'HASH-REPLACED$1'), config, indentation, depth, refs),
};
