// Response schemas of the threatd API (src/api/openapi*.json), as zod types.
// Every response the console reads is parsed with one of these: a field that
// changes type or disappears fails loudly (ApiError kind "validation") instead
// of rendering NaN or "undefined". Unknown extra fields are ignored.
import { z } from 'zod';

export const Role = z.enum(['viewer', 'operator', 'admin']);
export type Role = z.infer<typeof Role>;

// ISO-8601 UTC timestamps ("...Z") from the API.
const Timestamp = z.string().min(1);
const NullableTimestamp = Timestamp.nullable().optional();

export const ErrorBody = z.object({
  detail: z.string(),
  error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }).optional(),
  retryable: z.boolean().optional(),
});

export const Me = z.object({ name: z.string(), role: Role, key_id: z.number().int().optional() });
export type Me = z.infer<typeof Me>;

export const ThreatPrediction = z.object({
  id: z.number().int(),
  traffic_data_id: z.number().int().optional(),
  prediction_score: z.number(),
  is_attack: z.boolean(),
  threshold: z.number(),
  model_version: z.string(),
  created_at: Timestamp.optional(),
});
export const AttackPrediction = z.object({
  id: z.number().int(),
  traffic_data_id: z.number().int().optional(),
  attack_type_encoded: z.number().int(),
  attack_type_name: z.string(),
  confidence: z.number().nullable().optional(),
  model_version: z.string(),
  created_at: Timestamp.optional(),
});
export const SelfHealingAction = z.object({
  id: z.number().int(),
  action_type: z.string(),
  action_description: z.string(),
  status: z.string(),
  created_at: Timestamp.optional(),
  target: z.string().optional(),
  expires_at: NullableTimestamp,
});
export const TrafficData = z.object({
  id: z.number().int(),
  source: z.string(),
  batch_id: z.string().nullable().optional(),
  created_at: Timestamp,
  label: z.string().nullable().optional(),
  src_ip: z.string().nullable().optional(),
  dst_ip: z.string().nullable().optional(),
  src_port: z.number().int().nullable().optional(),
  dst_port: z.number().int().nullable().optional(),
  protocol: z.number().int().nullable().optional(),
});
export const CompletePrediction = z.object({
  traffic_data: TrafficData,
  threat_prediction: ThreatPrediction.nullable(),
  attack_prediction: AttackPrediction.nullable(),
  self_healing_action: SelfHealingAction.nullable(),
});
export type CompletePrediction = z.infer<typeof CompletePrediction>;

export const Distribution = z.record(z.string(), z.number().int());

export const PredictionStats = z.object({
  total_predictions: z.number().int(),
  total_attacks: z.number().int(),
  total_normal: z.number().int(),
  attack_rate: z.number(),
  attack_type_distribution: Distribution,
  recent_predictions: z.array(CompletePrediction),
});
export type PredictionStats = z.infer<typeof PredictionStats>;

// GET /predictions/timeline: equal buckets, empty ones included.
export const TimelineBucket = z.object({
  start: z.string(),
  end: z.string(),
  total: z.number().int().nonnegative(),
  attacks: z.number().int().nonnegative(),
});
export const PredictionTimeline = z.object({
  since: z.string(),
  until: z.string(),
  bucket_seconds: z.number(),
  buckets: z.array(TimelineBucket),
});
export type PredictionTimeline = z.infer<typeof PredictionTimeline>;

// GET /predictions/top-sources: most attack flows first.
export const SourceActivity = z.object({
  src_ip: z.string(),
  attacks: z.number().int().positive(),
  last_seen: z.string(),
  top_attack_type: z.string().nullable(),
});
export const TopSources = z.object({ sources: z.array(SourceActivity) });
export type TopSources = z.infer<typeof TopSources>;

export const AttackDistribution = z.object({ distribution: Distribution, total_attacks: z.number().int() });
export const ActionDistribution = z.object({ distribution: Distribution, total_actions: z.number().int() });

const RejectionExample = z.object({
  line: z.number().int().optional(),
  row: z.number().int().optional(),
  column: z.string().optional(),
  value: z.string().optional(),
  message: z.string(),
});
export const RejectionGroup = z.object({ count: z.number().int(), examples: z.array(RejectionExample) });
export const UploadSummary = z.object({
  by_class: Distribution.optional(),
  rejected_by_reason: z.record(z.string(), RejectionGroup).optional(),
  attacks: z.number().int().optional(),
  rows_per_second: z.number().optional(),
  seconds: z.number().optional(),
  bytes: z.number().int().optional(),
  message: z.string().optional(),
});
export type UploadSummary = z.infer<typeof UploadSummary>;

export const UploadBatch = z.object({
  batch_id: z.string(),
  filename: z.string(),
  status: z.enum(['processing', 'completed', 'failed']),
  row_count: z.number().int(),
  total_rows: z.number().int(),
  accepted_rows: z.number().int(),
  rejected_rows: z.number().int(),
  uploaded_at: Timestamp,
  finished_at: NullableTimestamp,
  error: z.string().nullable().optional(),
  summary: UploadSummary.nullable().optional(),
});
export type UploadBatch = z.infer<typeof UploadBatch>;
export const UploadBatches = z.object({ batches: z.array(UploadBatch) });
export const UploadBatchDetail = UploadBatch.extend({
  predictions: z.array(CompletePrediction),
  limit: z.number().int(),
  offset: z.number().int(),
});
export const UploadAccepted = z.object({ batch_id: z.string(), status: z.string() });

export const ActionType = z.enum(['block_ip', 'rate_limit', 'isolate_host', 'alert_admin', 'restart_service', 'log_only']);
export const Decision = z.object({
  id: z.number().int(),
  created_at: Timestamp,
  updated_at: Timestamp,
  action_type: ActionType,
  action_description: z.string(),
  status: z.enum(['pending', 'applied', 'failed', 'expired', 'revoked', 'logged']),
  error_message: z.string().nullable(),
  target: z.string(),
  origin: z.enum(['automatic', 'manual', 'api']),
  mode: z.enum(['enforce', 'simulate']),
  rule: z.string().nullable(),
  attack_class: z.string().nullable(),
  confidence: z.number().nullable(),
  detections: z.number().int(),
  escalation_level: z.number().int(),
  duration_seconds: z.number().int().nullable(),
  expires_at: Timestamp.nullable(),
  created_by: z.string().nullable(),
  in_force: z.boolean(),
  time_left_seconds: z.number().int().nullable(),
});
export type Decision = z.infer<typeof Decision>;
export const Decisions = z.array(Decision);

export const HealingPolicy = z.object({ rules: z.array(z.record(z.string(), z.unknown())) }).loose();
export type HealingPolicy = z.infer<typeof HealingPolicy>;
export const HealingMode = z.object({
  mode: z.enum(['enforce', 'dry_run']),
  backend: z.string(),
  circuit_breaker: z.object({
    state: z.enum(['open', 'closed']),
    blocks_last_minute: z.number().int(),
    max_blocks_per_minute: z.number().int(),
    trips: z.number().int(),
  }),
});
export type HealingMode = z.infer<typeof HealingMode>;

export const ModelType = z.enum(['threat_detector', 'attack_classifier']);
export type ModelType = z.infer<typeof ModelType>;
const EvaluationReport = z.object({
  classes: z.array(z.string()),
  confusion: z.array(z.array(z.number())),
  per_class: z
    .array(z.object({ label: z.string(), support: z.number(), precision: z.number(), recall: z.number(), f1: z.number() }))
    .optional(),
  macro_f1: z.number().optional(),
  accuracy: z.number().optional(),
});
export type EvaluationReport = z.infer<typeof EvaluationReport>;
export const MLModel = z.object({
  id: z.number().int(),
  model_type: ModelType,
  version: z.string(),
  file_format: z.string(),
  original_filename: z.string(),
  is_active: z.boolean(),
  is_real: z.boolean(),
  created_at: Timestamp,
  activated_at: NullableTimestamp,
  description: z.string().nullable().optional(),
  file_size_bytes: z.number().int().nullable().optional(),
  expected_features: z.array(z.string()).nullable().optional(),
  class_labels: z.array(z.string()).nullable().optional(),
  model_metadata: z
    .object({
      trees: z.number().int().optional(),
      threshold: z.number().optional(),
      card: z
        .object({
          task: z.string().optional(),
          train_rows: z.number().int().optional(),
          validation_rows: z.number().int().optional(),
          validation_protocol: z.string().optional(),
          validation: EvaluationReport.optional(),
        })
        .loose()
        .optional(),
    })
    .loose()
    .nullable()
    .optional(),
});
export type MLModel = z.infer<typeof MLModel>;
export const ModelList = z.object({ models: z.array(MLModel), total_count: z.number().int() });
export const ModelChanged = z.object({ message: z.string(), model: MLModel });
export const StorageStats = z.object({
  total_models: z.number().int(),
  total_size_bytes: z.number().int(),
  active_models: z.array(z.object({ id: z.number().int(), model_type: ModelType, version: z.string() })),
});
export const Message = z.object({ message: z.string() });

export const WhitelistEntry = z.object({
  id: z.number().int(),
  ip_address: z.string(),
  description: z.string().nullable().optional(),
  created_at: Timestamp,
  updated_at: Timestamp,
  is_active: z.boolean(),
  created_by: z.string().nullable().optional(),
  expires_at: NullableTimestamp,
});
export type WhitelistEntry = z.infer<typeof WhitelistEntry>;
export const Whitelist = z.array(WhitelistEntry);

export const DataSource = z.object({
  id: z.number().int(),
  source_name: z.string(),
  is_enabled: z.boolean(),
  description: z.string().optional(),
  config_params: z.record(z.string(), z.unknown()).nullable().optional(),
  updated_at: Timestamp,
});
export type DataSource = z.infer<typeof DataSource>;
export const DataSources = z.array(DataSource);

export const ApiKey = z.object({
  id: z.number().int(),
  name: z.string(),
  prefix: z.string(),
  role: Role,
  created_at: Timestamp,
  last_used_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
  active: z.boolean(),
});
export type ApiKey = z.infer<typeof ApiKey>;
export const ApiKeys = z.object({ keys: z.array(ApiKey) });
export const CreatedKey = ApiKey.extend({ key: z.string() });

export const StreamStatus = z.object({
  running: z.boolean(),
  sent: z.number().int(),
  failed: z.number().int().optional(),
  count: z.number().int().optional(),
  rate: z.number().optional(),
  started_at: NullableTimestamp,
  last_error: z.string().nullable().optional(),
});
export type StreamStatus = z.infer<typeof StreamStatus>;
export const StreamStarted = z.object({ message: z.string() }).loose();

export const Check = z.object({ status: z.enum(['ok', 'degraded', 'error', 'disabled']) }).loose();
export const DetailedHealth = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  timestamp: Timestamp,
  version: z.string().optional(),
  checks: z.record(z.string(), Check),
});
export type DetailedHealth = z.infer<typeof DetailedHealth>;
