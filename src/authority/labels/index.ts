/**
 * Information-flow labels (issue 18), the pure core: the label algebra, tool declarations, the
 * sink check, the label store, handles and declassifiers. The host bridge and decide() wire it in.
 */
export { Label, type Atom, type AtomJson, type Integrity, type Readers } from './label.ts';
export { compileToolLabels, toolLabelsSchema, type ToolLabelsDeclaration, type CompiledToolLabels } from './declaration.ts';
export { runPrincipals, type RunPrincipals, type ObjectFacts } from './principals.ts';
export { revealLabel } from './reveal.ts';
export { compileFlowRules, NO_FLOW_RULES, type FlowLevel, type FlowRules } from './flow-rules.ts';
export { describeSinkCall, type SinkCallFacts } from './sink.ts';
export { checkSink, contentLabel, type SinkCheck, type LabelDecision, type Release, type HandleUse, type Blocked } from './check.ts';
export { LabelStore, type StoreMode } from './store.ts';
export { HandleTable } from './handles.ts';
export { Declassifiers, labelAfterRelease, type Declassifier, type DeclassifyRequest } from './declassifiers.ts';
export { LabelRegistry, type KindLookup } from './registry.ts';
export { checkSinkCall, recordSinkWrite, reserveSinkWrite, labelToolResult } from './resolve.ts';
export { labelAuditDetail, type LabelAuditDetail } from './audit.ts';
