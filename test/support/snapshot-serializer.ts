/**
 * Jest snapshot serializer: replaces asset hashes (S3 keys, image tags, asset parameters) with a
 * placeholder so a dependency bump that changes a bundled asset does not churn every snapshot; the
 * release id the workloads derive from the services image's hash (its first 40 characters, in the
 * smoke Job's name) is replaced the same way.
 */
const HASH = /[A-Fa-f0-9]{64}(\.zip|\.json|:[A-Za-z0-9_-]*)?/;
const RELEASE = /\b[a-f0-9]{40}\b/;

module.exports = {
  test: (val: unknown): boolean => typeof val === 'string' && (HASH.test(val) || RELEASE.test(val)),
  // The replaced string no longer matches, so the printer does not come back here.
  serialize: (val: string, config: unknown, indentation: string, depth: number, refs: unknown, printer: Function): string =>
    printer(val.replace(new RegExp(HASH.source, 'g'), 'HASH-REPLACED$1').replace(new RegExp(RELEASE.source, 'g'), 'RELEASE-REPLACED'), config, indentation, depth, refs),
};
