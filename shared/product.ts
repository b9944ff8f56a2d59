/**
 * The product's name and version: `context.library` of every call sent to Segment (its debugger shows where an event
 * came from) and `currents --version`. A constant, so that the pure core imports no file; package.json holds the same
 * version, and test/unit/shared/product.test.ts fails when they differ (bump both).
 */
export const PRODUCT = { name: 'currents-segment-connectors', version: '0.1.0' } as const;
