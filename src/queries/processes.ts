import type { ProcessRecord } from '../domain/schemas.ts';
import type { ProcessesModel } from '../projections/processes.ts';

export const getProcessIn = (model: ProcessesModel, processId: string): ProcessRecord | undefined =>
  model.records.get(processId);

/** Running processes by processId ascending: the recovery sweep's worklist. */
export const listNonTerminalIn = (model: ProcessesModel): ProcessRecord[] =>
  [...model.nonTerminal]
    .sort(compareStrings)
    .map((id) => model.records.get(id))
    .filter((record): record is ProcessRecord => record !== undefined);

/** Every process, running or terminal, by processId ascending. */
export const listProcessesIn = (model: ProcessesModel): ProcessRecord[] =>
  [...model.records.values()].sort((a, b) => compareStrings(a.id, b.id));

/** Code-unit order: stable across locales and machines. */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
