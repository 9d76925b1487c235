#!/usr/bin/env node
// Regenerates tests/fixtures/tcf/strings.json: real TCF v2.2 TC strings encoded
// by the IAB reference library @iabtcf/core, plus published example strings,
// each with the field values that the same library reads back from it. The
// Python decoder (segpixel.domain.consent.tcf) is tested against that file.
//
// The library is deliberately NOT a dependency of this repository. Install it
// into a throw-away prefix and point this script at it:
//
//   npm install --prefix /tmp/tcfgen @iabtcf/core@1.5.6
//   TCFGEN_PREFIX=/tmp/tcfgen node scripts/make_tcf_fixtures.mjs
//
// (TCFGEN_PREFIX defaults to /tmp/tcfgen.) Everything is offline: the Global
// Vendor List that TCModel needs is built inline below, and all timestamps are
// fixed, so running it twice produces byte-identical output.

import { createRequire } from 'node:module';
import { writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const prefix = resolve(process.env.TCFGEN_PREFIX ?? '/tmp/tcfgen');
// createRequire lets an ES module in this tree load a package that lives in a
// node_modules outside it (ESM resolution ignores NODE_PATH).
const require = createRequire(join(prefix, 'package.json'));
const { Base64Url, GVL, PurposeRestriction, RestrictionType, TCModel, TCString } = require('@iabtcf/core');
// The package's "exports" map hides package.json from require(), so read it directly.
const coreVersion = JSON.parse(
  readFileSync(join(prefix, 'node_modules', '@iabtcf', 'core', 'package.json'), 'utf8'),
).version;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(repoRoot, 'tests', 'fixtures', 'tcf', 'strings.json');

// ---------------------------------------------------------------------------
// A minimal, inline Global Vendor List (GVL v3 shape, TCF policy version 4 = TCF 2.2).

const named = (ids, kind) =>
  Object.fromEntries(ids.map((id) => [id, { id, name: `${kind} ${id}`, description: '', illustrations: [] }]));

// Typical consent-only vendor (the shape of e.g. vendor 755 on the real GVL).
const consentVendor = (id) => ({
  id,
  name: `Vendor ${id}`,
  purposes: [1, 2, 3, 4, 7, 9, 10],
  legIntPurposes: [],
  flexiblePurposes: [],
  specialPurposes: [1, 2],
  features: [1, 2],
  specialFeatures: [],
  policyUrl: `https://vendor${id}.example/privacy`,
});

// Vendor relying on legitimate interest for some purposes, flexible on 2 and 7
// (flexibility is what allows "require consent" publisher restrictions).
const liVendor = (id) => ({
  ...consentVendor(id),
  purposes: [1, 3, 4],
  legIntPurposes: [2, 7, 8, 9, 10],
  flexiblePurposes: [2, 7],
  specialFeatures: [1, 2],
});

function vendorList(vendorIds, { liIds = [], vendorListVersion = 150 } = {}) {
  const vendors = {};
  for (const id of vendorIds) {
    vendors[id] = liIds.includes(id) ? liVendor(id) : consentVendor(id);
  }
  return {
    gvlSpecificationVersion: 3,
    vendorListVersion,
    tcfPolicyVersion: 4,
    lastUpdated: '2024-01-04T16:00:00Z',
    purposes: named([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'Purpose'),
    specialPurposes: named([1, 2, 3], 'Special purpose'),
    features: named([1, 2, 3], 'Feature'),
    specialFeatures: named([1, 2], 'Special feature'),
    stacks: {},
    dataCategories: {},
    vendors,
  };
}

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

// Changing the consent language without the network: GVL.changeLanguage only
// fetches a translation file when the language is not already in its cache.
async function withLanguage(gvl, lang) {
  GVL.LANGUAGE_CACHE.set(lang, {
    purposes: gvl.purposes,
    specialPurposes: gvl.specialPurposes,
    features: gvl.features,
    specialFeatures: gvl.specialFeatures,
    stacks: gvl.stacks,
  });
  await gvl.changeLanguage(lang);
  return gvl;
}

function model(gvl, { created, lastUpdated, cmpId = 10, cmpVersion = 2, consentScreen = 1 }) {
  const m = new TCModel(gvl);
  m.cmpId = cmpId;
  m.cmpVersion = cmpVersion;
  m.consentScreen = consentScreen;
  m.created = new Date(created);
  m.lastUpdated = new Date(lastUpdated ?? created);
  return m;
}

// ---------------------------------------------------------------------------
// Generated fixtures. Each builder returns [tcString, description].

const BASE_GVL = () => new GVL(vendorList([1, 2, 10, 28, 52, 755, 793]));
const T0 = '2024-03-01T09:15:30.400Z';

const builders = {
  async p1_vendor755_consent() {
    const m = model(BASE_GVL(), { created: T0, lastUpdated: '2024-03-02T10:00:00.000Z' });
    m.purposeConsents.set([1, 2, 3, 4, 7, 9, 10]);
    m.vendorConsents.set([2, 10, 755]);
    // Global scope: the encoder appends a DisclosedVendors segment.
    return [TCString.encode(m), 'global string; purpose 1 and vendor 755 consented; disclosed-vendors segment appended'];
  },

  async p1_not_consented() {
    const m = model(BASE_GVL(), { created: T0 });
    m.purposeConsents.set([2, 3, 4]);
    m.vendorConsents.set([755, 793]);
    return [TCString.encode(m), 'vendor 755 consented but purpose 1 (store/access on device) refused'];
  },

  async vendor_absent() {
    const m = model(BASE_GVL(), { created: T0 });
    m.purposeConsents.set([1, 2, 3, 4]);
    m.vendorConsents.set([1, 2, 28]);
    return [TCString.encode(m), 'purpose 1 consented, vendor 755 not among the consented vendors'];
  },

  async no_consent_at_all() {
    const m = model(BASE_GVL(), { created: T0 });
    return [TCString.encode(m), 'reject-all: no purposes, no vendors (MaxVendorId 0 bitfields)'];
  },

  async bitfield_dense() {
    const m = model(new GVL(vendorList(range(1, 60))), { created: T0 });
    m.purposeConsents.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    m.vendorConsents.set(range(1, 60).filter((id) => id % 3 !== 0));
    return [TCString.encode(m), 'many scattered vendors below 60: bitfield encoding'];
  },

  async range_large_ids() {
    const ids = [1, 2, 755, 1000, 1001, 1002, 1003, 2500];
    const m = model(new GVL(vendorList(ids)), { created: T0 });
    m.purposeConsents.set([1, 2]);
    m.vendorConsents.set([1000, 1001, 1002, 2500]);
    return [TCString.encode(m), 'few consents with ids up to 2500: range encoding (one range + one single)'];
  },

  async range_long_run() {
    const m = model(new GVL(vendorList(range(1, 1300))), { created: T0 });
    m.purposeConsents.set([1]);
    m.vendorConsents.set(range(1, 1300).filter((id) => id !== 500 && id !== 501));
    return [TCString.encode(m), 'vendors 1..1300 except 500-501: two long ranges'];
  },

  async legitimate_interests() {
    const gvl = new GVL(vendorList([1, 2, 10, 32, 755, 804], { liIds: [2, 32, 804] }));
    const m = model(gvl, { created: T0 });
    m.purposeConsents.set([1, 3, 4]);
    m.purposeLegitimateInterests.set([2, 7, 8, 9, 10]);
    m.vendorConsents.set([1, 10, 755]);
    m.vendorLegitimateInterests.set([2, 32, 804]);
    return [TCString.encode(m), 'purpose and vendor legitimate-interest transparency set'];
  },

  async service_specific_publisher_tc() {
    const m = model(BASE_GVL(), { created: T0 });
    m.isServiceSpecific = true;
    m.purposeConsents.set([1, 2, 3]);
    m.vendorConsents.set([52, 755]);
    m.publisherConsents.set([1, 2]);
    m.publisherLegitimateInterests.set([7]);
    // Service-specific strings get a Publisher TC segment appended by the encoder.
    return [TCString.encode(m), 'service-specific string with Publisher TC segment'];
  },

  async publisher_restrictions() {
    const gvl = new GVL(vendorList([1, 2, 10, 32, 755, 804], { liIds: [32, 804] }));
    const m = model(gvl, { created: T0 });
    m.isServiceSpecific = true;
    m.purposeConsents.set([1, 2, 3, 4, 7]);
    m.vendorConsents.set([1, 2, 10, 755]);
    m.vendorLegitimateInterests.set([32, 804]);
    // Publisher forbids purpose 1 (device storage) for vendor 755 ...
    m.publisherRestrictions.add(755, new PurposeRestriction(1, RestrictionType.NOT_ALLOWED));
    // ... and requires consent (instead of LI) for purpose 2 from 32 and 804.
    const requireConsent = new PurposeRestriction(2, RestrictionType.REQUIRE_CONSENT);
    m.publisherRestrictions.add(32, requireConsent);
    m.publisherRestrictions.add(804, requireConsent);
    m.publisherRestrictions.add(10, new PurposeRestriction(7, RestrictionType.NOT_ALLOWED));
    return [TCString.encode(m), 'service-specific with publisher restrictions (purpose 1 NOT_ALLOWED for vendor 755)'];
  },

  async publisher_tc_for_vendors() {
    const m = model(BASE_GVL(), { created: T0 });
    m.purposeConsents.set([1, 2, 3, 4]);
    m.vendorConsents.set([755]);
    m.publisherConsents.set([1, 3]);
    m.numCustomPurposes = 2;
    m.publisherCustomConsents.set([1]);
    m.publisherCustomLegitimateInterests.set([2]);
    // isForVendors: the form surfaced to vendors via the CMP API; core + Publisher TC.
    return [TCString.encode(m, { isForVendors: true }), 'global string as surfaced to vendors: core + Publisher TC (with custom purposes)'];
  },

  async max_values_fr() {
    const gvl = await withLanguage(BASE_GVL(), 'FR');
    const m = model(gvl, {
      created: '2020-05-17T23:59:59.900Z',
      lastUpdated: '2025-12-31T12:34:56.700Z',
      cmpId: 4095,
      cmpVersion: 4095,
      consentScreen: 63,
    });
    m.publisherCountryCode = 'FR';
    m.useNonStandardStacks = true;
    m.purposeOneTreatment = true;
    m.specialFeatureOptins.set([1, 2]);
    m.purposeConsents.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    m.vendorConsents.set([1, 2, 10, 28, 52, 755, 793]);
    return [TCString.encode(m), 'FR language and publisher CC, 12-bit max CMP id/version, special features, non-standard texts, purpose-one treatment'];
  },
};

// ---------------------------------------------------------------------------
// Published example strings (not produced here; expected values still come
// from @iabtcf/core's decoder, and agree with the assertions in the sources).

const published = {
  iab_spec_v22_example: [
    'CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA',
    'IAB Tech Lab "Consent string and vendor list formats v2" spec, Full TC String passing example (current revision)',
  ],
  iab_spec_v20_example: [
    'COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA.IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAAAAFAAECAAAgAAQARAEQAAAAAJAAIAAgAAAYQEAAAQmAgBC3ZAYzUw',
    'IAB Tech Lab TCF v2 spec, Full TC String passing example (2020 revision)',
  ],
  iabtcf_java_all_segments_padded: [
    'COrEAV4OrXx94ACABBENAHCIAD-AAAAAAACAAxAAAAgAIAwgAgAAAAEAgQAAAAAEAYQAQAAAACAAAABAAA.IBAgAAAgAIAwgAgAAAAEAAAACA.QAagAQAgAIAwgA.cAAAAAAAITg=',
    'IAB iabtcf-java TCStringV2Test.testCanParseAllParts: four segments, base64 padding on the last',
  ],
  iabtcf_java_two_ranges: [
    'COwBOpCOwBOpCLqAAAENAPCAAAAAAAAAAAAAFfwAYFfAV-BVkAGBVYFWAAA',
    'IAB iabtcf-java TCStringV2Test.testRange: range-encoded consents 702, 703',
  ],
  iabtcf_java_range_li: [
    'COv__-wOv__-wC2AAAENAPCgAAAAAAAAAAAAA_wAQA_gEBABAEAAAA',
    'IAB iabtcf-java TCStringV2Test.testCanParseRangeEncodedVendorLegitimateInterests',
  ],
  iabtcf_java_purpose_flags: [
    'COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA',
    'IAB iabtcf-java TCStringV2Test.testCanConstructTCModelFromBase64String',
  ],
};

// ---------------------------------------------------------------------------
// Read a string back with the reference decoder into plain JSON.

// Sorted ids -> compact list: single ids as numbers, runs of 3+ as [first, last].
function compact(ids) {
  const out = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    if (j - i >= 2) out.push([ids[i], ids[j]]);
    else for (let k = i; k <= j; k++) out.push(ids[k]);
    i = j + 1;
  }
  return out;
}

const sortedIds = (vector) => [...vector.values()].sort((a, b) => a - b);

// The reference decoder rejects '=' padding; the Python one tolerates it.
const referenceDecode = (tcString) =>
  TCString.decode(tcString.split('.').map((s) => s.replace(/=+$/, '')).join('.'));

// Which encoding each vendor section uses, read from the raw bits (the model
// does not keep it): documents that both code paths are covered.
const CORE_FIXED_BITS = 213; // Version .. PublisherCC
function vendorEncodings(tcString) {
  const m = referenceDecode(tcString);
  const bits = [...tcString.split('.')[0].replace(/=+$/, '')]
    .map((c) => Base64Url.DICT.indexOf(c).toString(2).padStart(6, '0'))
    .join('');
  const kind = (offset) => (bits[offset + 16] === '1' ? 'range' : 'bitfield');
  return {
    vendor_consents: kind(CORE_FIXED_BITS),
    vendor_legitimate_interests: kind(CORE_FIXED_BITS + m.vendorConsents.bitLength),
  };
}

// Bits of the core segment that carry data (everything after is padding): a
// decoder must reject the string cut anywhere before this point.
function coreBits(tcString) {
  const m = referenceDecode(tcString);
  return (
    CORE_FIXED_BITS +
    m.vendorConsents.bitLength +
    m.vendorLegitimateInterests.bitLength +
    m.publisherRestrictions.bitLength
  );
}

function expected(tcString) {
  const m = referenceDecode(tcString);
  const restrictions = m.publisherRestrictions
    .getRestrictions()
    .map((pr) => ({
      purpose: pr.purposeId,
      type: pr.restrictionType,
      vendors: compact(m.publisherRestrictions.getVendors(pr)),
    }))
    .sort((a, b) => a.purpose - b.purpose || a.type - b.type);
  return {
    version: m.version,
    created: m.created.toISOString(),
    last_updated: m.lastUpdated.toISOString(),
    cmp_id: m.cmpId,
    cmp_version: m.cmpVersion,
    consent_screen: m.consentScreen,
    consent_language: m.consentLanguage,
    vendor_list_version: m.vendorListVersion,
    tcf_policy_version: m.policyVersion,
    is_service_specific: m.isServiceSpecific,
    use_non_standard_texts: m.useNonStandardStacks,
    special_feature_optins: sortedIds(m.specialFeatureOptins),
    purposes_consent: sortedIds(m.purposeConsents),
    purposes_li_transparency: sortedIds(m.purposeLegitimateInterests),
    purpose_one_treatment: m.purposeOneTreatment,
    publisher_cc: m.publisherCountryCode,
    vendor_consents: compact(sortedIds(m.vendorConsents)),
    vendor_legitimate_interests: compact(sortedIds(m.vendorLegitimateInterests)),
    publisher_restrictions: restrictions,
  };
}

function fixture(id, source, description, tc) {
  return {
    id,
    source,
    description,
    encodings: vendorEncodings(tc),
    core_bits: coreBits(tc),
    tc_string: tc,
    expected: expected(tc),
  };
}

// JSON.stringify with indentation, but arrays of plain values kept on one line.
function pretty(value, indent = '') {
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((w) => typeof w !== 'object')))) {
      return JSON.stringify(value).replace(/,/g, ', ');
    }
    return `[\n${value.map((v) => inner + pretty(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
    return entries.length ? `{\n${entries.join(',\n')}\n${indent}}` : '{}';
  }
  return JSON.stringify(value);
}

const fixtures = [];
for (const [id, build] of Object.entries(builders)) {
  const [tc, description] = await build();
  fixtures.push(fixture(id, 'generated', description, tc));
}
for (const [id, [tc, description]] of Object.entries(published)) {
  fixtures.push(fixture(id, 'published', description, tc));
}

const doc = {
  _comment:
    'Generated by scripts/make_tcf_fixtures.mjs - do not edit by hand. Expected values are what @iabtcf/core TCString.decode reads back. Vendor id lists: numbers are single ids, [a, b] is the inclusive run a..b.',
  generator: 'scripts/make_tcf_fixtures.mjs',
  iabtcf_core_version: coreVersion,
  fixtures,
};
writeFileSync(outFile, pretty(doc) + '\n');
console.log(`wrote ${fixtures.length} fixtures to ${outFile} (@iabtcf/core ${coreVersion})`);
