/**
 * Links into the Temporal Web UI, built once (API links, notifications, CLI
 * output, the demo; the dashboard receives them from the API). No Node imports.
 */

export interface TemporalUiTarget {
  /** Web UI base, e.g. env.TEMPORAL_UI_URL (`http://127.0.0.1:8233`); a trailing slash is ignored. */
  uiUrl: string;
  /** Temporal namespace. Default `default`. */
  namespace?: string;
}

/** The namespace's workflow list. */
export function temporalWorkflowsUrl({ uiUrl, namespace = 'default' }: TemporalUiTarget): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows`;
}

/** One workflow's page (its latest run). */
export function temporalWorkflowUrl(target: TemporalUiTarget & { workflowId: string }): string {
  return `${temporalWorkflowsUrl(target)}/${encodeURIComponent(target.workflowId)}`;
}

/**
 * A workflow page's URL with `{workflowId}` in place of the (URL-encoded) id: what the API
 * hands to browser code (the dashboard), which fills it in instead of knowing the UI's paths.
 */
export function temporalWorkflowUrlTemplate(target: TemporalUiTarget): string {
  return `${temporalWorkflowsUrl(target)}/{workflowId}`;
}
