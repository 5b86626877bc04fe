"""`python -m dakota_rl.bench_train_steps --efficiency`: the arithmetic of the printed step-efficiency
figures."""

from __future__ import annotations

from dakota_rl.bench_train_steps import MatmulRate, StepRecord, efficiency_line, matmul_gflops


def test_ratio_is_step_time_over_the_flop_bound_and_skips_the_warm_up_step():
    records = [StepRecord(99.0, 99.0, 1), StepRecord(3.0, 2.0, 1000), StepRecord(5.0, 4.0, 3000)]
    line = efficiency_line("SFT", records, flops_per_token=6 * 1e6, rate=MatmulRate(wall=6.0, cpu=12.0))
    # 2,000 tokens x 6e6 FLOP = 12 GFLOP: bound 2 s at 6 GFLOP/s (wall), 1 s at 12 (cpu); times 4 s and 3 s
    assert "2000 tokens/step" in line
    assert "wall    4.00 s vs bound   2.00 s =  2.00x" in line
    assert "cpu    3.00 s vs bound   1.00 s =  3.00x" in line


def test_matmul_rate_is_measured_per_wall_and_cpu_second():
    rate = matmul_gflops(n=128, seconds=0.05)
    assert rate.wall > 0 and rate.cpu > 0
