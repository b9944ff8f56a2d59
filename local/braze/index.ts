/**
 * The local Braze: a sender that posts Currents events to a receiver the way Braze's Custom Currents Export does and
 * reacts to each answer as Braze does, plus the reader of its input files.
 */
export { sendLikeBraze, DEFAULTS } from './sender';
export { readBrazeFiles, parseBrazeFile, BrazeFileError } from './files';
export { pacedSchedule } from './core';
export type { BrazeSenderOptions, BrazeSendReport, BrazeRequestRecord } from './types';
