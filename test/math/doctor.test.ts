import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { doctorReport, measureSgemm } from '../../src/math/doctor.js';
import { gemmBackend } from '../../src/math/gemm.js';
import { tsSgemm } from '../../src/math/gemm-ts.js';

describe('doctorReport', () => {
  it('names the active backend and measures positive GFLOP/s for it and the fallback', () => {
    const r = doctorReport({ seconds: 0.05, activeShape: [128, 128, 64], fallbackShape: [64, 64, 64] });
    assert.equal(r.backend, gemmBackend().name);
    assert.ok(r.detail.length > 0);
    if (r.backend === 'openblas') {
      assert.ok(r.openblas && r.openblas.threads >= 1 && /OpenBLAS/.test(r.openblas.config));
    }
    for (const m of [r.active, r.fallback]) {
      assert.ok(Number.isFinite(m.gflops) && m.gflops > 0, `gflops ${m.gflops}`);
      assert.ok(m.repeats >= 1 && m.seconds >= 0.05);
    }
    assert.deepEqual(r.active.shape, [128, 128, 64]);
    assert.equal(r.nodeSupport.version, process.versions.node);
    assert.equal(r.nodeSupport.major, Number(process.versions.node.split('.')[0]));
  });

  it('computes GFLOP/s as 2·M·N·K·repeats / seconds', () => {
    const m = measureSgemm(tsSgemm, [8, 8, 8], 0.01);
    assert.ok(Math.abs(m.gflops - (2 * 512 * m.repeats) / m.seconds / 1e9) < 1e-9);
  });
});
