// Typed endpoints of the threatd API (paths and roles: src/api/*_routes.cpp).
import { z } from 'zod';
import { ApiError, authHeaders, errorFromBody, parseWith, request } from './client';
import * as S from './schemas';

const P = '/api/v1';

export interface Range {
  since?: string | undefined;
  until?: string | undefined;
}

export const api = {
  me: () => request(S.Me, `${P}/auth/me`),
  health: () => request(S.DetailedHealth, `${P}/health/detailed`),

  stats: (r: Range = {}) => request(S.PredictionStats, `${P}/predictions/stats`, { query: { ...r } }),
  // One request each for the dashboard's two aggregate panels.
  timeline: (q: Range & { buckets?: number } = {}) => request(S.PredictionTimeline, `${P}/predictions/timeline`, { query: { ...q } }),
  topSources: (q: Range & { limit?: number } = {}) => request(S.TopSources, `${P}/predictions/top-sources`, { query: { ...q } }),
  attackDistribution: (r: Range = {}) => request(S.AttackDistribution, `${P}/predictions/attack-distribution`, { query: { ...r } }),
  actionDistribution: (r: Range = {}) => request(S.ActionDistribution, `${P}/predictions/action-distribution`, { query: { ...r } }),
  recent: (q: { limit?: number; attacks_only?: boolean; batch_id?: string; since?: string }) =>
    request(z.array(S.CompletePrediction), `${P}/predictions/recent`, { query: q }),

  batches: (limit = 20) => request(S.UploadBatches, `${P}/upload/batches`, { query: { limit } }),
  batch: (id: string, limit = 50) => request(S.UploadBatchDetail, `${P}/upload/batch/${encodeURIComponent(id)}`, { query: { limit } }),

  actions: (q: { limit?: number; status?: string } = {}) => request(S.Decisions, `${P}/actions`, { query: q }),
  activeActions: () => request(S.Decisions, `${P}/actions/active`),
  createAction: (body: { target: string; action_type: string; duration_seconds: number; reason?: string }) =>
    request(S.Decision, `${P}/actions`, { method: 'POST', json: { ...body, origin: 'manual' } }),
  revokeAction: (id: number, reason?: string) =>
    request(S.Decision, `${P}/actions/${id}`, { method: 'DELETE', query: { reason } }),
  policy: () => request(S.HealingPolicy, `${P}/policy`),
  putPolicy: (p: unknown) => request(S.HealingPolicy, `${P}/policy`, { method: 'PUT', json: p }),
  mode: () => request(S.HealingMode, `${P}/healing/mode`),
  setMode: (mode: 'enforce' | 'dry_run') => request(S.HealingMode, `${P}/healing/mode`, { method: 'PUT', json: { mode } }),

  models: () => request(S.ModelList, `${P}/models`, { query: { include_inactive: true } }),
  storage: () => request(S.StorageStats, `${P}/models/stats/storage`),
  activateModel: (id: number) => request(S.ModelChanged, `${P}/models/${id}/activate`, { method: 'POST' }),
  rollbackModel: (type: S.ModelType) => request(S.ModelChanged, `${P}/models/rollback/${type}`, { method: 'POST' }),
  deleteModel: (id: number) => request(S.Message, `${P}/models/${id}`, { method: 'DELETE' }),
  uploadModel: (f: { file: File; model_type: S.ModelType; description?: string; profile_config?: string }) => {
    const form = new FormData();
    form.set('file', f.file);
    form.set('model_type', f.model_type);
    if (f.description) form.set('description', f.description);
    if (f.profile_config) form.set('profile_config', f.profile_config);
    return request(S.MLModel, `${P}/models/upload`, { method: 'POST', body: form });
  },

  whitelist: () => request(S.Whitelist, `${P}/config/whitelist`, { query: { limit: 500 } }),
  addWhitelist: (b: { ip_address: string; description?: string; expires_at?: string | null }) =>
    request(S.WhitelistEntry, `${P}/config/whitelist`, { method: 'POST', json: b }),
  patchWhitelist: (id: number, b: { is_active?: boolean; description?: string }) =>
    request(S.WhitelistEntry, `${P}/config/whitelist/${id}`, { method: 'PATCH', json: b }),
  deleteWhitelist: (id: number) => request(S.Message, `${P}/config/whitelist/${id}`, { method: 'DELETE' }),
  sources: () => request(S.DataSources, `${P}/config/sources`),
  setSource: (name: string, is_enabled: boolean) =>
    request(S.DataSource, `${P}/config/sources/${encodeURIComponent(name)}`, { method: 'PATCH', json: { is_enabled } }),

  keys: () => request(S.ApiKeys, `${P}/keys`),
  createKey: (name: string, role: S.Role) => request(S.CreatedKey, `${P}/keys`, { method: 'POST', json: { name, role } }),
  revokeKey: (id: number) => request(S.Message, `${P}/keys/${id}`, { method: 'DELETE' }),

  streamStatus: () => request(S.StreamStatus, `${P}/test/status`),
  startStream: (b: { count: number; rate: number; attack_mix: number }) =>
    request(S.StreamStarted, `${P}/test/start-stream`, { method: 'POST', json: b }),
  stopStream: () => request(S.StreamStarted, `${P}/test/stop-stream`, { method: 'POST' }),
};

// POST /upload/csv?async=true with real upload progress (XMLHttpRequest is the
// only browser API that reports bytes sent). Resolves with the batch id once
// the server has the file; rows then progress over the WebSocket.
export function uploadCsv(file: File, onBytes: (sent: number, total: number) => void): { promise: Promise<z.infer<typeof S.UploadAccepted>>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<z.infer<typeof S.UploadAccepted>>((resolve, reject) => {
    xhr.open('POST', `${P}/upload/csv?async=true`);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => onBytes(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError('network', 'the upload was interrupted', { hint: 'check the connection to threatd and upload again' }));
    xhr.onabort = () => reject(new ApiError('network', 'the upload was cancelled'));
    xhr.onload = () => {
      if (xhr.status < 200 || xhr.status >= 300) return reject(errorFromBody(xhr.status, xhr.responseText));
      try {
        resolve(parseWith(S.UploadAccepted, JSON.parse(xhr.responseText), 'upload'));
      } catch (e) {
        reject(e instanceof ApiError ? e : new ApiError('validation', 'upload response is not JSON'));
      }
    };
    const form = new FormData();
    form.set('file', file);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
