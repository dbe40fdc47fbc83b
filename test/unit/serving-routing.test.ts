import { describe, expect, it } from 'vitest';
import { ServingMetrics } from '../../src/serving/metrics.ts';
import { route, type AliasRoute, type VersionRef } from '../../src/serving/source.ts';
import { aliasRoutingSchema } from '../../src/storage/index.ts';

const ref = (version: number): VersionRef => ({ id: `id${version}`, projectId: 'p', name: 'm', version, movedAt: 5 });
/** An rng that returns `values` in turn. */
const returning = (...values: number[]) => ({ next: () => values.shift()! });

describe('route', () => {
  const alias: AliasRoute = { main: ref(1), canary: [{ ref: ref(2), weight: 0.2 }, { ref: ref(3), weight: 0.1 }], shadow: { ref: ref(4), share: 0.5 } };

  it('sends a draw below a canary weight to that canary, the rest to the main version, and shadows below the share', () => {
    expect(route(alias, returning(0.1, 0.9))).toEqual({ ...ref(2), routes: ['id1', 'id2', 'id3', 'id4'] });
    expect(route(alias, returning(0.25, 0.4))).toEqual({ ...ref(3), routes: ['id1', 'id2', 'id3', 'id4'], shadow: ref(4) });
    expect(route(alias, returning(0.35, 0.5)).version).toBe(1);
    expect(route(alias, returning(0.35, 0.5)).shadow).toBeUndefined();
  });

  it('draws nothing for an alias without routing', () => {
    const never = {
      next: () => {
        throw new Error('drawn');
      },
    };
    expect(route({ main: ref(1), canary: [], shadow: null }, never)).toEqual(ref(1));
  });
});

describe('aliasRoutingSchema', () => {
  it('fills in the defaults and refuses weights over 1 in all or a canary named twice', () => {
    expect(aliasRoutingSchema.parse({})).toEqual({ canary: [], shadow: null });
    // 0.1 + 0.2 + 0.7 is a little over 1 in binary, and still allowed.
    expect(aliasRoutingSchema.safeParse({ canary: [{ version: 2, weight: 0.1 }, { version: 3, weight: 0.2 }, { version: 4, weight: 0.7 }] }).success).toBe(true);
    const over = aliasRoutingSchema.safeParse({ canary: [{ version: 2, weight: 0.6 }, { version: 3, weight: 0.5 }] });
    expect(over.error?.issues.map((i) => [i.path, i.message])).toEqual([[['canary'], 'has weights adding up to 1.1; they must add up to at most 1']]);
    const twice = aliasRoutingSchema.safeParse({ canary: [{ version: 2, weight: 0.1 }, { version: 2, weight: 0.1 }] });
    expect(twice.error?.issues.map((i) => i.path)).toEqual([['canary', 1, 'version']]);
  });
});

describe('ServingMetrics', () => {
  it('counts requests per version and role and keeps cumulative latency buckets', () => {
    const m = new ServingMetrics();
    const labels = { project: 'p', model: 'm', version: 2, role: 'primary' as const };
    m.record(labels, 0.0004, true);
    m.record(labels, 0.003, true);
    m.record(labels, 30, false);
    m.dropped({ project: 'p', model: 'm', version: 3 });
    const text = m.exposition();
    const l = 'project="p",model="m",version="2",role="primary"';
    expect(text).toContain(`maas_model_requests_total{${l},outcome="ok"} 2`);
    expect(text).toContain(`maas_model_requests_total{${l},outcome="error"} 1`);
    expect(text).toContain(`maas_model_request_duration_seconds_bucket{${l},le="0.0005"} 1`);
    expect(text).toContain(`maas_model_request_duration_seconds_bucket{${l},le="0.005"} 2`);
    expect(text).toContain(`maas_model_request_duration_seconds_bucket{${l},le="10"} 2`);
    expect(text).toContain(`maas_model_request_duration_seconds_bucket{${l},le="+Inf"} 3`);
    expect(text).toContain(`maas_model_request_duration_seconds_count{${l}} 3`);
    expect(text).toContain('maas_model_shadow_dropped_total{project="p",model="m",version="3",role="shadow"} 1');
  });
});
