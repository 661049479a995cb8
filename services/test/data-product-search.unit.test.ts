import { productIndexBody } from '../src/catalog/product-search';

test('AWS domains get stemming and accent folding; the local core-only node gets what it has', () => {
  const full = productIndexBody(true);
  expect(full.settings.analysis.analyzer.product_text.filter).toEqual(['lowercase', 'asciifolding', 'english_stop', 'english_stemmer']);
  expect(full.settings.analysis.filter).toHaveProperty('english_stemmer');
  const core = productIndexBody(false);
  expect(core.settings.analysis.analyzer.product_text.filter).toEqual(['lowercase', 'english_stop']);
  expect(JSON.stringify(core)).not.toMatch(/asciifolding|stemmer/);
  // Same fields either way: documents and queries do not depend on the cluster's modules.
  expect(core.mappings).toEqual({ ...full.mappings });
  expect(full.mappings.dynamic).toBe('strict');
});
