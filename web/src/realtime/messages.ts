// Payloads of /ws/realtime messages (src/realtime/messages.h), validated
// with zod like every REST response; a message that does not match is dropped.
import { z } from 'zod';
import { Decision } from '../api/schemas';

export const PredictionData = z.object({
  timestamp: z.string(),
  traffic_data_id: z.number().int(),
  source: z.string(),
  batch_id: z.string().nullable().optional(),
  src_ip: z.string().nullable().optional(),
  dst_ip: z.string().nullable().optional(),
  threat_prediction: z.object({ prediction_score: z.number(), is_attack: z.boolean() }).nullable(),
  attack_prediction: z.object({ attack_type_name: z.string(), confidence: z.number().nullable().optional() }).nullable(),
});
export type PredictionData = z.infer<typeof PredictionData>;

export const StatsUpdate = z.object({
  total_predictions: z.number().int(),
  total_attacks: z.number().int(),
  total_normal: z.number().int(),
  attack_rate: z.number(),
  attack_type_distribution: z.record(z.string(), z.number().int()),
  flows_per_second: z.number().optional(),
  pipeline_queue_depth: z.number().optional(),
});
export type StatsUpdate = z.infer<typeof StatsUpdate>;

export const BatchProgress = z.object({
  batch_id: z.string(),
  bytes_read: z.number().int(),
  rows_read: z.number().int(),
  rows_stored: z.number().int(),
  finished: z.boolean(),
});
export type BatchProgress = z.infer<typeof BatchProgress>;

// `action` messages carry a decision (plus the event that changed it).
export const ActionMessage = Decision.partial().extend({ id: z.number().int(), event: z.string().optional() });

// Whether a prediction is an attack: the classifier's class when there is one
// (BENIGN is not an attack), else the detector's verdict.
export function isAttack(p: Pick<PredictionData, 'threat_prediction' | 'attack_prediction'>): boolean {
  if (p.attack_prediction) return p.attack_prediction.attack_type_name.toUpperCase() !== 'BENIGN';
  return p.threat_prediction?.is_attack ?? false;
}

export function className(p: Pick<PredictionData, 'threat_prediction' | 'attack_prediction'>): string {
  if (p.attack_prediction) return p.attack_prediction.attack_type_name;
  if (p.threat_prediction) return p.threat_prediction.is_attack ? 'ATTACK' : 'BENIGN';
  return '—';
}
