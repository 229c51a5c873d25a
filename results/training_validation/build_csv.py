#!/usr/bin/env python3
"""Builds measurements.csv and calculon_predictions.csv from values transcribed
by hand from public sources (see SOURCES.md).  Every number below was read from
the cited document; nothing is estimated.  Derived quantities (dp = gpus/(tp*pp*cp),
global batch = dp * batch-per-dp, chip counts from TPU slice names) are arithmetic on
published columns and are flagged in the notes of each row.

Run:  python3 build_csv.py   (writes the two CSV files next to this script)
"""
import csv
import os

HERE = os.path.dirname(os.path.abspath(__file__))

KEYS = ["model", "hidden", "layers", "heads", "kv_heads", "ffn", "vocab", "seq",
        "global_batch", "micro_batch", "tp", "pp", "dp", "vp", "sp", "cp", "ep",
        "recompute", "zero", "gpus", "dtype", "framework"]


def S(**kw):
    bad = set(kw) - set(KEYS)
    assert not bad, bad
    out = []
    for k in KEYS:
        v = str(kw.get(k, "unstated"))
        assert " " not in v and "=" not in v, (k, v)
        out.append(f"{k}={v}")
    return " ".join(out)


ROWS = []
PRED = []


def add(id, hardware, workload, settings, metric, value, unit, source, notes):
    assert metric in ("iteration_s", "tflops_per_gpu", "mfu", "tokens_per_s_per_gpu", "tokens_per_s"), metric
    ROWS.append(dict(id=id, category="training", hardware=hardware, workload=workload,
                     settings=settings, metric=metric, value=value, unit=unit,
                     kind="measured", source=source, notes=notes))


UNIT = {"iteration_s": "s", "tflops_per_gpu": "TFLOP/s", "mfu": "fraction",
        "tokens_per_s_per_gpu": "tokens/s", "tokens_per_s": "tokens/s"}

# ---------------------------------------------------------------------------
# 1. Narayanan et al. SC'21, Table 1 (weak scaling, GPT, Selene)
# ---------------------------------------------------------------------------
SELENE = ("{n}x A100-SXM4-80GB (NVIDIA Selene, DGX A100 nodes, 8 GPUs/node, NVLink3/NVSwitch, "
          "8x 200Gb/s HDR InfiniBand per node, fat-tree)")
SRC_SC21_T1 = ("Narayanan et al., 'Efficient Large-Scale Language Model Training on GPU Clusters Using "
               "Megatron-LM', SC'21 (arXiv:2104.04473), Table 1. UNVERIFIED transcription: values read from "
               "secondary copies of the table in public GitHub notes (three agree); PDF not read")
sc21_t1 = [  # params(B), heads, hidden, layers, t, p, gpus, batch, tflops, pct_peak, agg_pflops
    ("1.7", 24, 2304, 24, 1, 1, 32, 512, 137, 44, 4.4),
    ("3.6", 32, 3072, 30, 2, 1, 64, 512, 138, 44, 8.8),
    ("7.5", 32, 4096, 36, 4, 1, 128, 512, 142, 46, 18.2),
    ("18.4", 48, 6144, 40, 8, 1, 256, 1024, 135, 43, 34.6),
    ("39.1", 64, 8192, 48, 8, 2, 512, 1536, 138, 44, 70.8),
    ("76.1", 80, 10240, 60, 8, 4, 1024, 1792, 140, 45, 143.8),
    ("145.6", 96, 12288, 80, 8, 8, 1536, 2304, 148, 47, 227.1),
    ("310.1", 128, 16384, 96, 8, 16, 1920, 2160, 155, 50, 297.4),
    ("529.6", 128, 20480, 105, 8, 35, 2520, 2520, 163, 52, 410.2),
    ("1008", 160, 25600, 128, 8, 64, 3072, 3072, 163, 52, 502.0),
]
for (pb, heads, h, l, t, p, n, gbs, tf, pct, agg) in sc21_t1:
    dp = n // (t * p)
    name = pb.replace(".", "p")
    add(f"megatron-sc21-t1-gpt-{name}b-{n}xa100-tflops", SELENE.format(n=n),
        f"GPT {pb}B pretraining throughput, Megatron-LM PTD-P (weak-scaling study)",
        S(model=f"gpt-{pb}b", hidden=h, layers=l, heads=heads, kv_heads=heads, ffn=4 * h, vocab=51200,
          seq=2048, global_batch=gbs, tp=t, pp=p, dp=dp, sp=0, cp=1, ep=1, recompute="full",
          zero=0, gpus=n, dtype="fp16", framework="megatron-lm(2021)"),
        "tflops_per_gpu", tf, "TFLOP/s", SRC_SC21_T1,
        f"Achieved TFLOP/s per GPU as printed; paper's FLOP count (Eq. 3) includes the extra forward pass of "
        f"activation recomputation, i.e. hardware-style FLOPs, not MFU. Table also gives {pct}% of 312 TFLOP/s "
        f"peak and {agg} PFLOP/s aggregate. dp derived = gpus/(tp*pp). vocab 51200 and seq 2048 from the paper "
        f"text (as transcribed); ffn=4h assumed (standard GPT). micro-batch and interleaving (vp) per row not in "
        f"Table 1. dtype: paper says mixed precision (fp16 assumed). End-to-end incl. data loading/optimizer.")

# ---------------------------------------------------------------------------
# 1b. SC'21 Table 2 (PTD-P vs ZeRO-3)
# ---------------------------------------------------------------------------
SRC_SC21_T2 = ("Narayanan et al. SC'21 (arXiv:2104.04473), Table 2 (PTD-P vs ZeRO-3 without model parallelism). "
               "UNVERIFIED transcription (GitHub notes); TFLOP/s, GPU counts, batch and "
               "tp/pp corroborated independently by cli99/llm-analysis examples/megatron-lm/run_train.sh and "
               "run_train_zero.sh @ b60b392f747850d198145889205d8a3586d00282 (which encode the same setups)")
sc21_t2 = [  # scheme, model, gbs, gpus, mbs, tflops, days300B, tp, pp
    ("zero3", "175b", 1536, 384, 4, 144, 90, 1, 1),
    ("zero3", "175b", 1536, 768, 2, 88, 74, 1, 1),
    ("zero3", "175b", 1536, 1536, 1, 44, 74, 1, 1),
    ("zero3", "530b", 2560, 640, 4, 138, 169, 1, 1),
    ("zero3", "530b", 2240, 1120, 2, 98, 137, 1, 1),
    ("zero3", "530b", 2240, 2240, 1, 48, 140, 1, 1),
    ("ptdp", "175b", 1536, 384, 1, 153, 84, 8, 12),
    ("ptdp", "175b", 1536, 768, 1, 149, 43, 8, 12),
    ("ptdp", "175b", 1536, 1536, 1, 141, 23, 8, 12),
    ("ptdp", "530b", 2240, 560, 1, 171, 156, 8, 35),
    ("ptdp", "530b", 2240, 1120, 1, 167, 80, 8, 35),
    ("ptdp", "530b", 2240, 2240, 1, 159, 42, 8, 35),
]
ARCH = {"175b": (12288, 96, 96), "530b": (20480, 105, 128)}
for (scheme, m, gbs, n, mbs, tf, days, t, p) in sc21_t2:
    h, l, heads = ARCH[m]
    dp = n // (t * p)
    params = "174.6B" if m == "175b" else "529.6B"
    fw = "deepspeed-zero3" if scheme == "zero3" else "megatron-lm(2021)"
    extra = (" ZeRO-3 rows: the transcription shows a 'model-parallel size' of 2 for the 768- and 1120-GPU rows, "
             "which is probably the micro-batch column misread; llm-analysis encodes all ZeRO-3 rows as tp=1 pp=1, "
             "and the paper calls the scheme 'ZeRO-3 without model parallelism'. 530B ZeRO-3 at 640 GPUs used "
             "batch 2560 because 560 GPUs did not fit (per transcription)." if scheme == "zero3" else
             " PTD-P model-parallel size 96 (t=8,p=12) for 175B and 280 (t=8,p=35) for 530B.")
    add(f"megatron-sc21-t2-{scheme}-gpt-{m}-{n}xa100-tflops", SELENE.format(n=n),
        f"GPT {params} pretraining throughput, {'ZeRO-3 (no model parallelism)' if scheme == 'zero3' else 'Megatron PTD-P'}",
        S(model=f"gpt-{m}", hidden=h, layers=l, heads=heads, kv_heads=heads, ffn=4 * h, vocab=51200, seq=2048,
          global_batch=gbs, micro_batch=mbs, tp=t, pp=p, dp=dp, sp=0, cp=1, ep=1, recompute="full",
          zero=3 if scheme == "zero3" else 0, gpus=n, dtype="fp16", framework=fw),
        "tflops_per_gpu", tf, "TFLOP/s", SRC_SC21_T2,
        f"Achieved TFLOP/s per GPU (same FLOP formula as Table 1, includes recomputation). Table also gives "
        f"{days} days to train on 300B tokens. Architecture (h,l,heads) assumed = GPT-3 175B / MT-NLG 530B shapes "
        f"(the 174.6B/529.6B parameter counts match). dp derived.{extra}")

# ---------------------------------------------------------------------------
# 2. Korthikanti et al. 2022 (arXiv:2205.05198) Table 5 iteration times; MFU/HFU
# ---------------------------------------------------------------------------
SRC_KORTH_T5 = ("Korthikanti et al., 'Reducing Activation Recomputation in Large Transformer Models' "
                "(arXiv:2205.05198, MLSys'23), Table 5 (end-to-end iteration time). Values as quoted in "
                "calculon-ai/calculon calculon/llm/validation.py (seqsel_tab5 kProfile, comment cites Table 5) "
                "@ 2dd9c5c8aef90509c89c230d38b712542746015b and calculon/megatron/validation.py "
                "@ 09bbcb7e8833edc169fbe2f2bf69fca04b894202; configs from calculon validation/seqsel/tab5/*.json "
                "(@ 33a5aab0 / 4ad160d9). PDF not read: secondary source")
SRC_KORTH_MFU = ("github.com/NVIDIA/Megatron-LM README.md, section 'Training Speed and Scalability' "
                 "(2022-2023 README versions; MFU/HFU table for 22B/175B/530B/1T"
                 "11311783, commit not identified), which reproduces Korthikanti et al. arXiv:2205.05198 Table 5")
korth = {  # name: hidden, layers, heads, gbs, mbs, tp, pp, gpus, vp, t_full, t_seqsel, mfu, hfu
    "22b": (6144, 48, 64, 4, 4, 8, 1, 8, 1, 1.42, 1.10, 0.415, 0.437),
    "175b": (12288, 96, 96, 64, 1, 8, 8, 64, 3, 18.13, 13.75, 0.514, 0.528),
    "530b": (20480, 105, 128, 280, 1, 8, 35, 280, 3, 49.05, 37.83, 0.560, 0.570),
    "1t": (25600, 128, 160, 512, 1, 8, 64, 512, 1, 94.42, 71.49, 0.563, 0.570),
}
for m, (h, l, heads, gbs, mbs, t, p, n, vp, tfull, tsel, mfu, hfu) in korth.items():
    base = dict(model=f"megatron-gpt-{m}", hidden=h, layers=l, heads=heads, kv_heads=heads, ffn=4 * h,
                seq=2048, global_batch=gbs, micro_batch=mbs, tp=t, pp=p, dp=1, vp=vp, cp=1, ep=1,
                zero=0, gpus=n, dtype="fp16", framework="megatron-lm(2022)")
    hw = SELENE.format(n=n)
    common = ("dp=1 (README: 'measured using a data parallel size of one'). vp is Calculon's "
              "pipeline_interleaving in its validation config (paper Table 3 not read). vocab not in the "
              "quoted sources. dtype float16 as in Calculon's config (paper: mixed precision). ffn=4h assumed.")
    add(f"korthikanti-gpt-{m}-{n}xa100-fullrecompute-iter", hw,
        f"GPT {m.upper()} one training iteration, tensor+pipeline parallel, full activation recomputation (baseline)",
        S(sp=0, recompute="full", **base), "iteration_s", tfull, "s", SRC_KORTH_T5,
        "Table 5 'full recompute' column. " + common)
    add(f"korthikanti-gpt-{m}-{n}xa100-seqpar-selective-iter", hw,
        f"GPT {m.upper()} one training iteration with sequence parallelism + selective activation recomputation",
        S(sp=1, recompute="selective", **base), "iteration_s", tsel, "s", SRC_KORTH_T5,
        "Table 5 'present work' (sequence parallel + selective recompute) column. " + common)
    add(f"korthikanti-gpt-{m}-{n}xa100-seqpar-selective-mfu", hw,
        f"GPT {m.upper()} training MFU with sequence parallelism + selective recomputation",
        S(sp=1, recompute="selective", **base), "mfu", mfu, "fraction", SRC_KORTH_MFU,
        f"Model FLOPs utilization (no recompute FLOPs counted) of A100 312 TFLOP/s peak. Hardware FLOPs "
        f"utilization (incl. recompute) = {hfu}. The README does not name the configuration explicitly; "
        f"attributed to the Table 5 'present work' runs (same models, dp=1). " + common)

SRC_KORTH_ABS = ("Korthikanti et al. arXiv:2205.05198, Abstract (read via ar5iv.labs.arxiv.org/html/2205.05198 "
                 "page text in the search corpus)")
for mode, val, rec, sp in (("seqpar-selective", 0.542, "selective", 1), ("fullrecompute", 0.421, "full", 0)):
    add(f"korthikanti-gpt-530b-2240xa100-{mode}-mfu", SELENE.format(n=2240),
        "GPT-3-style 530B training MFU on 2240 GPUs" + (" (sequence parallel + selective recompute)" if sp else
                                                        " (full activation recomputation)"),
        S(model="megatron-gpt-530b", hidden=20480, layers=105, heads=128, kv_heads=128, ffn=81920, seq=2048,
          tp=8, pp=35, dp=8, sp=sp, cp=1, ep=1, recompute=rec, gpus=2240, dtype="fp16",
          framework="megatron-lm(2022)"),
        "mfu", val, "fraction", SRC_KORTH_ABS,
        "Abstract: 'when training a 530B parameter GPT-3 style model on 2240 NVIDIA A100 GPUs, we achieve a Model "
        "Flops Utilization of 54.2%, which is 29% faster than the 42.1% we achieve using recomputation'. tp=8, pp=35 "
        "assumed from the paper's 530B configuration (Table 3 / Calculon config); dp=2240/280=8 derived; global and "
        "micro batch not stated in the abstract.")

# ---------------------------------------------------------------------------
# 3. Megatron-LM README (2020) scaling tables: images/tables.tex
# ---------------------------------------------------------------------------
SRC_MEG2020 = ("github.com/NVIDIA/Megatron-LM images/tables.tex @ 19301985dd31c8b612095cbad15bd903e8ddd497 "
               "(LaTeX source of the README 'cases' scaling tables, 2020)")
cases = {"1b": (1920, 15, 24, "1.16", 1), "2b": (2304, 18, 30, "2.03", 2),
         "4b": (3072, 24, 36, "4.24", 4), "8b": (4096, 32, 42, "8.67", 8)}
meg2020 = [  # case, system, gpus, batch, iter_ms, scaling, tflops, dp
    ("1b", "dgx2-v100", 1, 8, 1121, "100.0%", 71.9, 1), ("2b", "dgx2-v100", 2, 8, 1093, "89.6%", 64.2, 1),
    ("4b", "dgx2-v100", 4, 8, 1238, "82.5%", 58.5, 1), ("8b", "dgx2-v100", 8, 8, 1407, "74.3%", 52.2, 1),
    ("1b", "dgxa100", 1, 16, 1076, "100%", 149.8, 1), ("2b", "dgxa100", 2, 16, 1026, "91.7%", 136.8, 1),
    ("4b", "dgxa100", 4, 16, 1162, "84.5%", 124.7, 1), ("8b", "dgxa100", 8, 16, 1343, "74.7%", 109.3, 1),
    ("1b", "dgxa100", 128, 2048, 1153, "93.3%", 139.8, 128), ("2b", "dgxa100", 256, 2048, 1101, "85.5%", 127.5, 128),
    ("4b", "dgxa100", 512, 2048, 1242, "79.0%", 116.7, 128), ("8b", "dgxa100", 1024, 2048, 1380, "72.7%", 106.5, 128),
]
for case, sysn, n, gbs, ms, scal, tf, dp in meg2020:
    h, heads, l, params, mp = cases[case]
    if sysn == "dgx2-v100":
        hw = f"{n}x V100 (NVIDIA DGX-2, 16 GPUs/node, NVSwitch; memory size not stated)"
    else:
        hw = (f"{n}x A100 (NVIDIA DGX A100, 8 GPUs/node, NVLink/NVSwitch; memory size and inter-node "
              f"network not stated in the table)")
    st = S(model=f"gpt-{params}b", hidden=h, layers=l, heads=heads, kv_heads=heads, ffn=4 * h,
           global_batch=gbs, tp=mp, pp=1, dp=dp, vp=1, sp=0, cp=1, ep=1, gpus=n,
           dtype="fp16", framework="megatron-lm(2020)")
    wl = f"GPT {params}B ({case.upper()} case), {mp}-way tensor model parallel" + (f" x {dp}-way data parallel" if dp > 1 else "")
    note = (f"Weak-scaling table '{'DGX-2 (V100) batch size 8' if sysn == 'dgx2-v100' else ('DGX-A100 batch size 2048' if dp > 1 else 'DGX-A100 batch size 16')}'; "
            f"scaling efficiency {scal}. Model parallel partitions = tensor parallel (Megatron 2020 had no pipeline "
            f"parallelism in this table). Sequence length, vocabulary, micro-batch and recompute setting are not in "
            f"tables.tex and the accompanying README text was not found. ffn=4h assumed. dp derived "
            f"= gpus/tp. TFLOP/s definition not stated (Megatron-LM of that time counted FLOPs including "
            f"activation recomputation - unverified).")
    add(f"megatron-readme2020-gpt-{case}-{n}x{('v100' if 'v100' in sysn else 'a100')}-iter", hw, wl, st,
        "iteration_s", round(ms / 1000.0, 4), "s", SRC_MEG2020, note + f" Published as {ms} ms.")
    add(f"megatron-readme2020-gpt-{case}-{n}x{('v100' if 'v100' in sysn else 'a100')}-tflops", hw, wl, st,
        "tflops_per_gpu", tf, "TFLOP/s", SRC_MEG2020, note)

# ---------------------------------------------------------------------------
# 4a. NeMo 24.07 performance summary (DGX-H100, FP8)
# ---------------------------------------------------------------------------
SRC_NEMO2407 = ("github.com/NVIDIA/NeMo docs/source/performance/performance_summary.md "
                "@ 070a0bb168d405d653b9734c0017cf5078e77c0d, section 'Pretraining' (Container NeMo24.07, DGX-H100, FP8)")
H100 = "{n}x H100-SXM5-80GB (NVIDIA DGX H100 nodes, 8 GPUs/node, NVLink4/NVSwitch; inter-node network not stated)"
ARCH_NEMO = {  # hidden, layers, heads, kv, ffn, vocab ; source note
    "gpt3-5b": (4096, 24, 32, 32, 16384, "unstated", "NeMo GPTConfig5B"),
    "gpt3-20b": (6144, 44, 48, 48, 24576, "unstated", "NeMo GPTConfig20B"),
    "gpt3-175b": (12288, 96, 96, 96, 49152, "unstated", "GPT-3 175B shape (Calculon models/gpt3-175B.json)"),
    "llama2-7b": (4096, 32, 32, 32, 11008, 32000, "NeMo Llama2Config7B (vocab 32000 from Llama 2)"),
    "llama2-13b": (5120, 40, 40, 40, 13824, 32000, "NeMo Llama2Config13B"),
    "llama2-70b": (8192, 80, 64, 8, 28672, 32000, "NeMo Llama2Config70B"),
    "llama3-8b": (4096, 32, 32, 8, 14336, 128256, "Llama 3 paper Table 3; vocab 128256 from the Hugging Face config"),
    "llama3-70b": (8192, 80, 64, 8, 28672, 128256, "Llama 3 paper Table 3; vocab 128256 from the Hugging Face config"),
    "llama3.1-405b": (16384, 126, 128, 8, 53248, 128256, "Llama 3 paper Table 3; vocab 128256 from the Hugging Face config"),
}
ARCH_NOTE = (" Architecture fields are NOT in the performance table; filled from {src} (model-config files in "
             "NVIDIA/NeMo nemo/collections/llm/gpt/model/{{base,llama}}.py or the Llama 3 paper Table 3 as "
             "transcribed in public notes); vocab for GPT3-* unstated.")


def arch_kw(m):
    if m not in ARCH_NEMO:
        return {}, " Architecture not stated in the source."
    h, l, hd, kv, f, v, src = ARCH_NEMO[m]
    return dict(hidden=h, layers=l, heads=hd, kv_heads=kv, ffn=f, vocab=v), ARCH_NOTE.format(src=src)


nemo2407 = [  # model, gpus, gbs, mbs, seq, tp, pp, cp, vp, tok, tflops
    ("gpt3-5b", 64, 2048, 4, 2048, 1, 1, 1, 1, 22521, 736),
    ("gpt3-20b", 64, 256, 2, 2048, 2, 1, 1, 1, 5851, 750),
    ("gpt3-175b", 128, 256, 1, 2048, 4, 8, 1, 6, 726, 782),
    ("gpt3-175b", 512, 2048, 2, 2048, 4, 8, 1, 6, 782, 842),
    ("llama2-7b", 8, 128, 1, 4096, 1, 1, 1, 1, 16847, 776),
    ("llama2-13b", 16, 128, 1, 4096, 1, 4, 1, 10, 8646, 754),
    ("llama2-70b", 64, 128, 1, 4096, 4, 4, 1, 20, 1707, 759),
    ("nemotron-8b", 64, 256, 4, 4096, 2, 1, 1, 1, 12701, 653),
    ("nemotron-22b", 64, 256, 2, 4096, 2, 4, 1, 10, 4256, 554),
    ("nemotron-340b", 128, 32, 1, 4096, 8, 8, 1, 12, 322, 678),
    ("llama3-8b", 8, 128, 1, 8192, 1, 1, 2, 1, 12036, 697),
    ("llama3-70b", 64, 128, 1, 8192, 4, 4, 2, 5, 1533, 738),
]
for (m, n, gbs, mbs, seq, t, p, c, vp, tok, tf) in nemo2407:
    dp = n // (t * p * c)
    ak, anote = arch_kw(m)
    st = S(model=m, seq=seq, global_batch=gbs, micro_batch=mbs, tp=t, pp=p, dp=dp, vp=vp, cp=c, ep=1,
           gpus=n, dtype="fp8", framework="nemo-24.07", **ak)
    wl = f"{m} pretraining, NeMo 24.07, FP8"
    base_note = (f"dp derived = gpus/(tp*pp*cp). Sequence parallel, recompute and distributed-optimizer settings "
                 f"not stated in the table (see NeMo recipes of that release).{anote}")
    add(f"nemo2407-{m}-{n}xh100-fp8-tokps", H100.format(n=n), wl, st, "tokens_per_s_per_gpu", tok, "tokens/s",
        SRC_NEMO2407, "Tokens/sec/GPU as published. " + base_note +
        " Another version of the same page (commit unknown, also labelled NeMo24.07) "
        "shows slightly different numbers for several rows.")
    add(f"nemo2407-{m}-{n}xh100-fp8-tflops", H100.format(n=n), wl, st, "tflops_per_gpu", tf, "TFLOP/s",
        SRC_NEMO2407, "Model TFLOP/sec/GPU as published (model FLOPs, NeMo's formula; FP8 run, so not comparable "
        "to a BF16 peak). " + base_note +
        (" The 512-GPU GPT3-175B value links to MLCommons (MLPerf Training) results." if (m == "gpt3-175b" and n == 512) else ""))

# ---------------------------------------------------------------------------
# 4b. NeMo long-sequence Llama2-7B with context parallelism (NeMo 24.03.01)
# ---------------------------------------------------------------------------
SRC_NEMO_LS = ("github.com/NVIDIA/NeMo docs/source/performance/performance_long_sequence.md "
               "@ 0aa267117ae5f1ff9f8d8308ed3d1ba1ce939f82 (LLAMA2-7B FP8, Container NeMo24.03.01.framework, "
               "DGX-H100; 'With-CP' TFLOPS/GPU column)")
SRC_NEMO_LS2 = ("NVIDIA/NeMo docs/source/performance/performance_summary.md, section 'Long Input Sequences' "
                "(NeMo24.03.01.framework, DGX-H100, FP8); another stored version, commit not "
                "identified")
nemo_ls = [  # seqK, gpus, gbs, mbs, tp, pp, cp, vp, dp, tok, tflops
    (4, 4, 1024, 1, 1, 1, 1, 1, 4, 16671, 768), (8, 8, 512, 1, 1, 2, 1, 1, 4, 13907, 730),
    (16, 16, 256, 1, 2, 1, 1, 1, 8, 10082, 660), (32, 32, 128, 1, 2, 1, 2, 1, 8, 6687, 610),
    (64, 64, 64, 1, 4, 1, 2, 1, 8, 4021, 574), (128, 128, 32, 1, 4, 1, 4, 1, 8, 2260, 555),
    (256, 256, 16, 1, 4, 1, 8, 1, 8, 1214, 549), (512, 512, 8, 1, 8, 1, 16, 1, 4, 635, 549),
    (1024, 1024, 4, 1, 8, 1, 32, 1, 4, 318, 536),
]
ak, anote = arch_kw("llama2-7b")
for (sk, n, gbs, mbs, t, p, c, vp, dp, tok, tf) in nemo_ls:
    st = S(model="llama2-7b", seq=sk * 1024, global_batch=gbs, micro_batch=mbs, tp=t, pp=p, dp=dp, vp=vp, cp=c,
           ep=1, gpus=n, dtype="fp8", framework="nemo-24.03.01", **ak)
    wl = f"Llama2-7B pretraining at {sk}K sequence length with context parallelism, NeMo 24.03.01, FP8"
    nn = (f"Sequence length published as {sk}K; seq={sk}x1024 assumed. DP is published. GBS/MBS and tokens/s "
          f"come from the summary-page version; the long-sequence page gives TP/PP/DP/CP and TFLOPS only (values "
          f"agree).{anote}")
    add(f"nemo2403-llama2-7b-seq{sk}k-{n}xh100-fp8-tflops", H100.format(n=n), wl, st, "tflops_per_gpu", tf,
        "TFLOP/s", SRC_NEMO_LS, "Model TFLOPS/GPU with CP. " + nn)
    add(f"nemo2403-llama2-7b-seq{sk}k-{n}xh100-fp8-tokps", H100.format(n=n), wl, st, "tokens_per_s_per_gpu", tok,
        "tokens/s", SRC_NEMO_LS2, "Tokens/sec/GPU as published. " + nn)

# ---------------------------------------------------------------------------
# 4c. Megatron-Bridge (NeMo Framework) performance summary archive
# ---------------------------------------------------------------------------
SRC_MB = ("github.com/NVIDIA-NeMo/Megatron-Bridge docs/performance-summary-archive.md "
          "@ 0a25f911b2ed6c6905a539504fdb8e5b40e3438b, section '{sec}' (also docs.nvidia.com/nemo/megatron-bridge/"
          "latest/performance-summary-archive.html)")
SYS = {
    "DGX-H100": "{n}x H100-SXM5-80GB (DGX H100, 8 GPUs/node, NVLink4/NVSwitch; inter-node network not stated)",
    "DGX-B200": "{n}x B200 (DGX B200, 8 GPUs/node, NVLink5; memory and inter-node network not stated)",
    "DGX-B300": "{n}x B300 (DGX B300, 8 GPUs/node, NVLink5; memory and inter-node network not stated)",
    "DGX-GB200": "{n}x GB200 GPUs (DGX GB200 / NVL72 rack-scale NVLink domain; memory and scale-out network not stated)",
    "DGX-GB300": "{n}x GB300 GPUs (DGX GB300 / NVL72 rack-scale NVLink domain; memory and scale-out network not stated)",
}
PREC = {"NVFP4": "nvfp4", "MXFP8": "fp8", "FP8": "fp8", "BF16": "bf16", "FP8-CS": "fp8"}
PREC_NOTE = {"NVFP4": "NVFP4 (4-bit) precision recipe", "MXFP8": "MXFP8 (block-scaled FP8) recipe",
             "FP8": "FP8 recipe (per-tensor/current scaling)", "BF16": "BF16", "FP8-CS": "FP8 current-scaling recipe"}
MOE = {"deepseekv3", "gpt-oss-120b", "qwen3-30b-a3b", "qwen3-235b-a22b"}
mb2602 = {
    "llama3-70b": [
        ("DGX-GB300", 64, "NVFP4", 256, 1, 8192, 0, 1, 4, 1, 5, None, 6798, 3056),
        ("DGX-GB200", 64, "NVFP4", 256, 1, 8192, 0, 2, 4, 1, 5, None, 4458, 2004),
        ("DGX-GB300", 64, "MXFP8", 256, 1, 8192, 0, 1, 4, 1, 5, None, 4596, 2064),
        ("DGX-GB200", 64, "MXFP8", 256, 1, 8192, 0, 2, 4, 1, 5, None, 3613, 1623),
        ("DGX-GB300", 64, "FP8", 256, 2, 8192, 64, 1, 1, 1, None, None, 5003, 2248),
        ("DGX-GB200", 64, "FP8", 256, 2, 8192, 64, 1, 1, 1, None, None, 4040, 1815),
        ("DGX-H100", 64, "FP8", 256, 1, 8192, 0, 4, 8, 1, 5, None, 1621, 728)],
    "llama3.1-405b": [
        ("DGX-GB300", 256, "NVFP4", 1536, 1, 8192, 0, 4, 8, 1, 4, None, 1333, 3365),
        ("DGX-GB200", 256, "NVFP4", 1536, 1, 8192, 0, 4, 16, 1, 8, None, 1076, 2716),
        ("DGX-GB300", 256, "MXFP8", 1536, 1, 8192, 0, 2, 8, 2, 4, None, 931, 2349),
        ("DGX-GB200", 256, "MXFP8", 1536, 1, 8192, 0, 4, 16, 1, 8, None, 786, 1983),
        ("DGX-GB300", 256, "FP8", 1536, 1, 8192, 0, 4, 8, 1, 4, None, 988, 2495),
        ("DGX-GB200", 256, "FP8", 1536, 1, 8192, 0, 4, 16, 1, 4, None, 793, 2004),
        ("DGX-H100", 1024, "FP8", 1536, 1, 8192, 0, 8, 8, 2, 8, None, 311, 784)],
    "deepseekv3": [
        ("DGX-GB300", 256, "MXFP8", 4096, 2, 4096, 0, 1, 2, 1, 8, 32, 4612, 1199),
        ("DGX-GB200", 256, "MXFP8", 4096, 1, 4096, 0, 1, 4, 1, 4, 64, 3955, 1028),
        ("DGX-B300", 256, "MXFP8", 4096, 1, 4096, 0, 1, 16, 1, None, 8, 2983, 776),
        ("DGX-B200", 256, "MXFP8", 4096, 1, 4096, 0, 1, 16, 1, None, 8, 2689, 699)],
    "gpt-oss-120b": [
        ("DGX-GB300", 64, "BF16", 1280, 4, 4096, 0, 1, 1, 1, None, 64, 19412, 527),
        ("DGX-GB200", 64, "BF16", 1280, 4, 4096, 0, 1, 1, 1, None, 64, 15784, 428),
        ("DGX-B300", 64, "BF16", 1280, 4, 4096, 0, 1, 1, 1, None, 64, 8359, 228),
        ("DGX-B200", 64, "BF16", 1280, 4, 4096, 0, 1, 1, 1, None, 64, 8047, 219),
        ("DGX-H100", 64, "BF16", 1280, 1, 4096, 0, 1, 4, 1, None, 8, 5993, 163)],
    "qwen3-30b-a3b": [
        ("DGX-GB300", 8, "MXFP8", 512, 8, 4096, 0, 1, 1, 1, None, 8, 30376, 699),
        ("DGX-GB200", 8, "MXFP8", 512, 4, 4096, 0, 1, 1, 1, None, 8, 26084, 600),
        ("DGX-B300", 8, "MXFP8", 512, 8, 4096, 0, 1, 1, 1, None, 8, 29521, 679),
        ("DGX-B200", 8, "MXFP8", 512, 1, 4096, 0, 1, 1, 1, None, 8, 9691, 223),
        ("DGX-H100", 16, "FP8", 1024, 1, 4096, 0, 1, 2, 1, 12, 8, 5113, 118)],
    "qwen3-235b-a22b": [
        ("DGX-GB300", 256, "MXFP8", 8192, 2, 4096, 0, 1, 4, 1, None, 32, 6583, 974),
        ("DGX-GB200", 256, "MXFP8", 8192, 1, 4096, 0, 1, 8, 1, None, 32, 5448, 806),
        ("DGX-B300", 256, "MXFP8", 8192, 1, 4096, 0, 1, 8, 1, 4, 8, 2691, 399),
        ("DGX-B200", 256, "MXFP8", 8192, 1, 4096, 0, 1, 8, 1, None, 8, 3805, 563),
        ("DGX-H100", 256, "FP8", 8192, 1, 4096, 0, 2, 8, 1, 4, 32, 1633, 242)],
}
# 25.11 section, DGX-H100 table only (rows: model, gpus, prec, gbs, mbs, seq, fsdp, tp, pp, cp, vp, ep, ga, tok, tflops)
mb2511_h100 = [
    ("llama3-8b", 8, "FP8-CS", 128, 1, 8192, 8, 1, 1, 1, None, 1, 16, 14451, 744),
    ("llama3-70b", 64, "FP8-CS", 128, 1, 8192, 0, 4, 8, 1, 5, 1, 64, 1602, 719),
    ("llama3.1-405b", 1024, "FP8-CS", 512, 1, 8192, 0, 8, 8, 2, 8, 1, 64, 292, 737),
    ("gpt-oss-120b", 64, "BF16", 512, 4, 4096, 0, 1, 4, 1, 1, 8, 2, 5630, 153),
    ("qwen3-30b-a3b", 16, "FP8-CS", 512, 2, 4096, 0, 1, 2, 1, 24, 8, 32, 5275, 121),
    ("qwen3-235b-a22b", 256, "FP8-CS", 2048, 1, 4096, 0, 2, 8, 1, 4, 32, 128, 1575, 233),
]


def mb_rows(ver, sec, m, sysn, n, prec, gbs, mbs, seq, fsdp, t, p, c, vp, ep, tok, tf, ga=None):
    dp = n // (t * p * c)
    ak, anote = arch_kw(m)
    if m in MOE:
        anote = (" MoE model; architecture (experts, top-k, MLA etc.) not stated in the table - see the model's "
                 "Hugging Face config. Benchmarks force-balanced the token distribution among experts and are "
                 "token-dropless (page footnote).")
    st = S(model=m, seq=seq, global_batch=gbs, micro_batch=mbs, tp=t, pp=p, dp=dp, vp=(vp if vp else 1), cp=c,
           ep=(ep if ep else 1), zero=(3 if fsdp else "unstated"), gpus=n, dtype=PREC[prec],
           framework=f"megatron-bridge/nemo-{ver}", **ak)
    short = {"DGX-H100": "h100", "DGX-B200": "b200", "DGX-B300": "b300", "DGX-GB200": "gb200", "DGX-GB300": "gb300"}[sysn]
    pid = f"mbridge{ver.replace('.', '')}-{m}-{n}x{short}-{prec.lower()}"
    wl = f"{m} pretraining, Megatron-Bridge (NeMo {ver} container), {PREC_NOTE[prec]}"
    nn = (f"System {sysn}; precision column '{prec}'. FSDP column = {fsdp} ({'FSDP; zero=3 recorded' if fsdp else 'DDP'}). "
          f"VP/EP 'n/a' recorded as 1. dp derived = gpus/(tp*pp*cp) (EP is carved out of DP). "
          + (f"GA (gradient accumulation) = {ga}. " if ga else "")
          + "Recompute, sequence-parallel and optimizer-sharding settings not in the table (performance recipes "
            "under scripts/performance in the same repo)." + anote)
    add(pid + "-tokps", SYS[sysn].format(n=n), wl, st, "tokens_per_s_per_gpu", tok, "tokens/s",
        SRC_MB.format(sec=sec), "Tokens/sec/GPU as published. " + nn)
    add(pid + "-tflops", SYS[sysn].format(n=n), wl, st, "tflops_per_gpu", tf, "TFLOP/s",
        SRC_MB.format(sec=sec), "Model TFLOP/sec/GPU as published (model FLOPs; low-precision run, compare against "
        "the matching low-precision peak). " + nn)


for m, rows in mb2602.items():
    for r in rows:
        mb_rows("26.02", "26.02 NeMo Container / Pre-Training Performance", m, *r)
for (m, n, prec, gbs, mbs, seq, fsdp, t, p, c, vp, ep, ga, tok, tf) in mb2511_h100:
    mb_rows("25.11", "25.11 NeMo Container / Pre-Training Performance / System: DGX-H100", m, "DGX-H100", n, prec,
            gbs, mbs, seq, fsdp, t, p, c, vp, ep, tok, tf, ga=ga)

# ---------------------------------------------------------------------------
# 5. MaxText TPU v5p / v5e
# ---------------------------------------------------------------------------
SRC_MT_V5P = ("github.com/AI-Hypercomputer/maxtext MaxText/configs/v5p/README.md @ 0ed7bd529b9d690570473c3525d1efeda6b6c944 "
              "('Expected performance results ... on TPU v5p', per-model tables)")
SRC_MT_RT = ("github.com/AI-Hypercomputer/maxtext docs/advanced_docs/runtime_performance_results.md "
             "@ 9797b463d2893d1498056d23f0d4497c85147c0d (TPU v5p table)")
SRC_MT_V5E = ("github.com/AI-Hypercomputer/maxtext MaxText/configs/v5e/README.md @ 0ed7bd529b9d690570473c3525d1efeda6b6c944 "
              "(same table in docs/advanced_docs/runtime_performance_results.md @ 9797b463)")
MT_CFG = {  # (gen, size): (per_device_batch, remat, tp, config path@commit, extra)
    ("v5p", 32): (7, "selective", 4, "MaxText/configs/v5p/32b.sh@0d9779a5", "remat_policy=minimal"),
    ("v5p", 64): (3, "selective", 4, "MaxText/configs/v5p/64b.sh@3d048f7b", "remat_policy=minimal"),
    ("v5p", 128): (1, "selective", 8, "MaxText/configs/v5p/128b.sh@07775101", "remat_policy=minimal"),
    ("v5p", 256): (1, "selective", 8, "MaxText/configs/v5p/256b.sh@07775101", "remat_policy=minimal"),
    ("v5p", 512): (2, "full", 8, "MaxText/configs/v5p/512b.sh@07775101", "remat_policy=full"),
    ("v5p", 1024): (2, "full", 8, "MaxText/configs/v5p/1024b.sh@04be03d7", "remat_policy=full, also sets ici_data_parallelism=16"),
    ("v5e", 16): (6, "full", 1, "MaxText/configs/v5e/16b.sh@07775101", "remat_policy=full, no tensor parallelism set (pure FSDP)"),
    ("v5e", 32): (4, "full", 1, "MaxText/configs/v5e/32b.sh@07775101", "remat_policy=full, no tensor parallelism set (pure FSDP)"),
    ("v5e", 64): (2, "full", 1, "MaxText/configs/v5e/64b.sh@0ea0637a", "remat_policy=full, no tensor parallelism set (pure FSDP)"),
    ("v5e", 128): (1, "selective", 16, "MaxText/configs/v5e/128b.sh@0ea0637a", "remat_policy=minimal_offloaded, ici_fsdp_parallelism=16 ici_tensor_parallelism=16, fused_qkv/fused_mlp"),
}


def maxtext_row(gen, size, slices, slice_name, chips_per_slice, tf, mfu, src, extra_note=""):
    chips = slices * chips_per_slice
    cfg = MT_CFG.get((gen, size))
    if gen == "v5p":
        hw = (f"{chips}x TPU v5p chips ({slices}x {slice_name} slice{'s' if slices > 1 else ''}; {slice_name} counts "
              f"TensorCores, 2 per chip -> {chips_per_slice} chips/slice; 3D-torus ICI within a slice, DCN between "
              f"slices; 95 GB HBM per chip per Cloud TPU docs)")
        peak = 459
    else:
        hw = (f"{chips}x TPU v5e chips ({slices}x {slice_name} slice{'s' if slices > 1 else ''}, 256 chips/slice, "
              f"2D-torus ICI within a slice, DCN between slices; 16 GB HBM per chip per Cloud TPU docs)")
        peak = 197
    if cfg:
        pdb, rec, tp, cpath, cextra = cfg
        st = S(model=f"maxtext-synthetic-{size}b-scale{size}", seq=2048,
               global_batch=pdb * chips, micro_batch=pdb, tp=tp, pp=1, dp=chips // tp, vp=1, sp=0, cp=1, ep=1,
               recompute=rec, zero=3, gpus=chips, dtype="bf16", framework="maxtext")
        cnote = (f" Settings from {cpath} ({cextra}; per_device_batch_size={pdb}, max_target_length=2048, "
                 f"ici_fsdp_parallelism=-1 unless noted, synthetic data, flash attention); these scripts changed "
                 f"over time (10-30 stored versions) so the version used for the table may differ. global_batch "
                 f"derived = per_device_batch*chips; dp counts FSDP(ICI) x DCN data parallel = chips/tp. "
                 f"dtype bf16 is MaxText's base.yml default (not stated in the table).")
    else:
        st = S(model=f"maxtext-{size}b", seq="unstated", gpus=chips, framework="maxtext")
        cnote = (" Config for the 1160B runs not identified (MaxText/configs/v5p/v5p-12288.sh @ eae3aadb, an 'X "
                 "parameter model' with global_parameter_scale=512, base_emb_dim=6144, per_device_batch_size=2, "
                 "remat full, ici_tensor_parallelism=16, may be it - unverified).")
    dims = (" Model dimensions are not stated: MaxText derives emb_dim/heads/mlp_dim/layers from base.yml base_* "
            "values scaled by global_parameter_scale (rule changed between versions).")
    add(f"maxtext-{gen}-{size}b-{slices}x{slice_name}-tflops", hw,
        f"MaxText synthetic {size}B-parameter dense decoder, pretraining step throughput on TPU {gen}", st,
        "tflops_per_gpu", tf, "TFLOP/s", src,
        f"TFLOP/s per chip as published; published MFU {mfu}% (MFU = model FLOPs / peak, peak {peak} bf16 TFLOP/s per "
        f"chip implied by the table)." + extra_note + cnote + dims)


v5p = [  # size, slices, slice_name, chips_per_slice, tflops, mfu
    (32, 1, "v5p-128", 64, 328, "71.47"), (32, 2, "v5p-128", 64, 319, "69.43"),
    (64, 1, "v5p-128", 64, 323, "70.31"), (64, 2, "v5p-128", 64, 309, "67.26"),
    (128, 1, "v5p-256", 128, 315, "68.68"), (128, 2, "v5p-256", 128, 305, "66.34"),
    (128, 1, "v5p-512", 256, 316, "68.83"), (128, 2, "v5p-512", 256, 274, "59.66"),
    (256, 1, "v5p-1024", 512, 308, "67.09"), (256, 2, "v5p-1024", 512, 289, "62.99"),
    (512, 1, "v5p-1024", 512, 294, "63.99"), (512, 2, "v5p-1024", 512, 282, "61.45"),
    (1024, 1, "v5p-2048", 1024, 254, "55.35"), (1024, 2, "v5p-2048", 1024, 237, "51.55"),
    (1024, 1, "v5p-4096", 2048, 297, "64.80"), (1024, 2, "v5p-4096", 2048, 279, "60.83"),
]
for (size, sl, name, cps, tf, mfu) in v5p:
    extra = ""
    if (size, sl, name) == (128, 1, "v5p-512"):
        extra = " runtime_performance_results.md @ 9797b463 lists 315 TFLOP/s, 68.53% for the same case."
    if (size, sl, name) == (1024, 1, "v5p-2048"):
        extra = (" runtime_performance_results.md @ 9797b463 lists 2.49e+02 TFLOP/s with 64.05% MFU for the same "
                 "case, which is internally inconsistent (249/459 = 54%); the README pair is used.")
    maxtext_row("v5p", size, sl, name, cps, tf, mfu, SRC_MT_V5P, extra)
for (name, cps, tf, mfu) in (("v5p-7680", 3840, 295, "64.27"), ("v5p-12288", 6144, 304, "66.23")):
    maxtext_row("v5p", 1160, 1, name, cps, tf, mfu, SRC_MT_RT)

v5e = {16: [(120, "61.10"), (117, "59.37"), (117, "59.14"), (115, "58.27"), (111, "56.56"), (108, "54.65")],
       32: [(132, "66.86"), (128, "64.81"), (126, "64.10"), (125, "63.67"), (123, "62.26"), (119, "60.40")],
       64: [(118, "59.90"), (112, "56.66"), (110, "55.85"), (108, "54.96"), (105, "53.29"), (99, "50.18")],
       128: [(110, "56.06"), (110, "55.82"), (108, "54.93"), (104, "52.93"), (100, "50.86"), (91, "46.25")]}
for size, vals in v5e.items():
    for sl, (tf, mfu) in zip((1, 2, 4, 8, 16, 32), vals):
        maxtext_row("v5e", size, sl, "v5e-256", 256, tf, mfu, SRC_MT_V5E)

# ---------------------------------------------------------------------------
# 6. Production runs: BLOOM, OPT, MT-NLG, PaLM, Llama 3
# ---------------------------------------------------------------------------
SRC_BLOOM = ("github.com/bigscience-workshop/bigscience train/tr11-176B-ml/README.md @ 00327f8c3533c39b3cc17013f0d0d2b770eb2bb9, "
             "sections 'Important checkpoints' (log line at iteration 85376), 'Replica setup', 'Architecture', 'Throughput'")
bloom_hw = ("384x A100 80GB (Jean Zay, 48 nodes x 8 GPUs, 'NVLink 4 inter-gpu connects, 4 OmniPath links' per node, "
            "Omni-Path inter-node)")
bloom_st = S(model="bloom-176b", hidden=14336, layers=70, heads=112, kv_heads=112, ffn=57344, vocab=250880, seq=2048,
             global_batch=2048, micro_batch=2, tp=4, pp=12, dp=8, vp=1, sp=0, cp=1, ep=1, recompute="full", zero=1,
             gpus=384, dtype="bf16", framework="megatron-deepspeed")
bloom_note = ("Steady state at GBS=2048 (first-epoch boundary). ZeRO stage 1 is implemented inside DeepSpeed's "
              "BF16_Optimizer (config stage 0). DeepSpeed activation checkpointing on. Vocabulary 250,680 tokens, "
              "embedding 250,880 (padded) per README. ffn=4h (Megatron GPT default; not stated). ALiBi positions, "
              "embedding LayerNorm. MBS=2 per 'Replica setup' (ramp-up started at MBS=1; MBS at this iteration not "
              "printed).")
add("bloom-176b-384xa100-iter", bloom_hw, "BLOOM-176B pretraining iteration (production run, tr11)", bloom_st,
    "iteration_s", 104.70, "s", SRC_BLOOM, "Log line: 'elapsed time per iteration (s): 104.70 ... global batch size: 2048 ... "
    "samples per second: 19.561 | TFLOPs: 149.77'. " + bloom_note)
add("bloom-176b-384xa100-tflops", bloom_hw, "BLOOM-176B pretraining throughput (production run, tr11)", bloom_st,
    "tflops_per_gpu", 149.77, "TFLOP/s", SRC_BLOOM, "Hardware TFLOP/s including activation recomputation (README "
    "'Throughput': factor 4*2 instead of 3*2, i.e. not model FLOPs). Same log line as the iteration row. " + bloom_note)

SRC_OPT = ("Zhang et al., 'OPT: Open Pre-trained Transformer Language Models' (arXiv:2205.01068), Section 2.4 'Training "
           "Efficiency' (paper text from a public GitHub copy); batch size per Table 1 as "
           "transcribed in public notes (id 65948731527)")
add("opt-175b-992xa100-tflops", "992x A100 80GB (Meta/Azure cluster; node size and interconnect not stated)",
    "OPT-175B pretraining throughput (production run)",
    S(model="opt-175b", hidden=12288, layers=96, heads=96, kv_heads=96, ffn=49152, vocab="unstated", seq=2048,
      global_batch="unstated", tp="unstated", pp=1, sp=0, cp=1, ep=1, zero=3, gpus=992, dtype="fp16",
      framework="metaseq(fsdp+megatron-tp)"),
    "tflops_per_gpu", 147, "TFLOP/s", SRC_OPT,
    "'We achieve utilization of up to 147 TFLOP/s per GPU' (an upper value, not an average). Fully Sharded Data Parallel "
    "(zero=3 recorded) with Megatron-LM tensor parallelism (degree not stated in the paper text); FP16 weights, FP32 "
    "Adam state. Batch ~2M tokens per Table 1 (not an exact sequence count). ffn=4h assumed; pp=1 assumed (no pipeline "
    "mentioned). FLOP-counting convention not stated.")

SRC_MTNLG = ("Smith et al., 'Using DeepSpeed and Megatron to Train Megatron-Turing NLG 530B' (arXiv:2201.11990), Section 2.4 "
             "(PDF p7). UNVERIFIED: values as quoted in cli99/llm-analysis examples/megatron-turing-nlg/README.md "
             "@ b60b392f747850d198145889205d8a3586d00282 and in a public dataset script ("
             "citing 'PDF p7, s2.4')")
for nodes, it, tf in ((280, 60.1, 126), (350, 50.2, 121), (420, 44.4, 113)):
    n = nodes * 8
    dp = n // 280
    st = S(model="mt-nlg-530b", hidden=20480, layers=105, heads=128, kv_heads=128, ffn=81920, vocab=50272, seq=2048,
           global_batch=1920, tp=8, pp=35, dp=dp, sp=0, cp=1, ep=1, gpus=n, framework="megatron-deepspeed")
    hw = (f"{n}x A100-SXM4-80GB ({nodes} DGX A100 servers on Selene, 8 GPUs/node, NVLink/NVSwitch, HDR InfiniBand "
          f"fat-tree)")
    nn = (f"Batch 1920, {nodes} servers. tp=8, pp=35 (MT-NLG 3D-parallel setup, 280 GPUs per replica; dp derived = "
          f"{dp}). vocab 50272 and ffn from llm-analysis's mt-nlg-530b model config. llm-analysis README says '40GB' GPUs; "
          f"the MT-NLG paper/blog describe 80GB A100 (Selene). Micro-batch, recompute, dtype not in the quoted text.")
    add(f"mtnlg-530b-{n}xa100-iter", hw, "MT-NLG 530B training iteration (system benchmark)", st, "iteration_s", it, "s",
        SRC_MTNLG, "Iteration time as published. " + nn)
    add(f"mtnlg-530b-{n}xa100-tflops", hw, "MT-NLG 530B training throughput (system benchmark)", st, "tflops_per_gpu",
        tf, "TFLOP/s", SRC_MTNLG, "TFLOP/s per GPU as published (described as hardware FLOPs in the dataset script). " + nn)
add("mtnlg-530b-2240xa100-mfu-palm", "2240x A100-SXM4-80GB (280 DGX A100 servers, Selene)",
    "MT-NLG 530B MFU as computed by the PaLM paper",
    S(model="mt-nlg-530b", hidden=20480, layers=105, heads=128, kv_heads=128, ffn=81920, vocab=50272, seq=2048,
      global_batch=1920, tp=8, pp=35, dp=8, sp=0, cp=1, ep=1, gpus=2240, framework="megatron-deepspeed"),
    "mfu", 0.302, "fraction",
    "Chowdhery et al., 'PaLM: Scaling Language Modeling with Pathways' (arXiv:2204.02311), Section 4.1 / Table 3 (text "
    "from a public ar5iv copy)",
    "'The MFU number for Megatron-Turing NLG 530B is 29.7% without self-attention or 30.2% with it based on a training "
    "throughput of 65.43K tokens/sec' (= 1920*2048/60.1 s). Secondary computation by PaLM authors from the 60.1 s step "
    "time; 312 TFLOP/s A100 peak.")

SRC_PALM = ("Chowdhery et al., 'PaLM: Scaling Language Modeling with Pathways' (arXiv:2204.02311), Section 4 'Training "
            "Infrastructure' and Section 4.1 / Table 3 (paper text from a public ar5iv copy); "
            "model shape from calculon-ai/calculon examples/models/palm-540B.json @ 01e8ac08")
palm_st = S(model="palm-540b", hidden=18432, layers=118, heads=48, kv_heads="unstated", ffn=73728, vocab=256000,
            seq=2048, global_batch=2048, tp=12, pp=1, dp=512, vp=1, sp=0, cp=1, ep=1, recompute="full", zero=3,
            gpus=6144, dtype="unstated", framework="jax/t5x+pathways")
palm_hw = ("6144x TPU v4 chips (2 TPU v4 Pods x 3072 chips; 3D-torus ICI within a pod, data-center network between "
           "pods; 275 TFLOP/s bf16 peak per chip)")
palm_note = ("Within each pod: 12-way model parallelism and 256-way fully sharded data parallelism ('2D finalized'); "
             "2-way data parallelism across pods (dp=512 recorded). No pipeline parallelism. Weights all-gathered "
             "over the DP axis in forward; one sharded activation tensor saved per layer, rest rematerialized "
             "(recorded as full recompute). Head dim 256 (attn_size in Calculon's model file). PaLM uses multi-query "
             "attention and parallel layers (kv_heads left unstated: not in the sources read). Vocab 256k "
             "SentencePiece (256000 recorded). Throughput is the average over training at batch size 2048.")
add("palm-540b-6144xtpuv4-tokps", palm_hw, "PaLM 540B pretraining throughput (production run)", palm_st,
    "tokens_per_s", 238300, "tokens/s", SRC_PALM,
    "'PaLM 540B achieves an average training throughput of 238.3K tokens/sec at the batch size of 2048.' " + palm_note)
add("palm-540b-6144xtpuv4-mfu", palm_hw, "PaLM 540B pretraining MFU (production run)", palm_st, "mfu", 0.462,
    "fraction", SRC_PALM, "MFU 46.2% including self-attention FLOPs (45.7% without). Hardware FLOPs utilization incl. "
    "rematerialization = 57.8%. " + palm_note)

SRC_LLAMA3 = ("Llama Team, 'The Llama 3 Herd of Models' (arXiv:2407.21783), Table 4 'Scaling configurations and MFU for "
              "each stage of Llama 3 405B pre-training' and Section 3.3. UNVERIFIED transcription: several public "
              "copies agree; one copy "
              "(id 70888892482) prints DP=4 for the 128K row, inconsistent with 16,384 GPUs")
llama_hw = ("{n}x H100 80GB HBM3 (700 W TDP) in Meta Grand Teton servers, 8 GPUs/server with NVLink; RoCE fabric at "
            "400 Gb/s per GPU, 3-layer Clos (24K-GPU cluster)")
llama_rows = [  # n, tp, cp, pp, dp, seq, bsdp, tflops, mfu, rec
    (8192, 8, 1, 16, 64, 8192, 32, 430, 0.43, "none"),
    (16384, 8, 1, 16, 128, 8192, 16, 400, 0.41, "none"),
    (16384, 8, 16, 16, 8, 131072, 16, 380, 0.38, "unstated"),
]
for (n, t, c, p, dp, seq, bsdp, tf, mfu, rec) in llama_rows:
    gbs = dp * bsdp
    st = S(model="llama3.1-405b", hidden=16384, layers=126, heads=128, kv_heads=8, ffn=53248, vocab=128256, seq=seq,
           global_batch=gbs, tp=t, pp=p, dp=dp, cp=c, ep=1, recompute=rec, gpus=n, dtype="bf16",
           framework="meta-internal(4D:TP,CP,PP,FSDP)")
    nn = (f"Batch size/DP = {bsdp}; global_batch = DP x batch/DP = {gbs} sequences (16M tokens, derived). DP is FSDP "
          f"(optimizer state and gradients sharded; parameters not resharded after forward) - zero stage left unstated. "
          f"Interleaved pipeline schedule with first/last stage one layer lighter; vp not stated. "
          + ("Paper: pipeline improvements allow 8K-sequence pre-training without activation checkpointing (recompute=none). "
             if rec == "none" else "Long-context (128K) stage. ")
          + "Architecture from the paper's Table 3 (as transcribed); vocab 128256 from the Hugging Face config (paper: 128K). MFU is BF16 model FLOPs over ~989 TFLOP/s H100 peak.")
    add(f"llama3-405b-{n}xh100-seq{seq // 1024}k-tflops", llama_hw.format(n=n), "Llama 3 405B pretraining stage throughput",
        st, "tflops_per_gpu", tf, "TFLOP/s", SRC_LLAMA3, "TFLOPs/GPU as published. " + nn)
    add(f"llama3-405b-{n}xh100-seq{seq // 1024}k-mfu", llama_hw.format(n=n), "Llama 3 405B pretraining stage MFU",
        st, "mfu", mfu, "fraction", SRC_LLAMA3, "BF16 MFU as published (rounded to whole %). " + nn)

# ---------------------------------------------------------------------------
# 7. ZeRO (Rajbhandari et al. SC'20)
# ---------------------------------------------------------------------------
add("zero-100b-gpt-60b-400xv100-tflops",
    "400x V100 32GB (DGX-2 nodes, 16 GPUs/node with NVSwitch, InfiniBand between nodes; per the ZeRO paper's setup as "
    "summarized in public notes - unverified)",
    "GPT-like 60B model trained with ZeRO-100B (ZeRO-DP stages 1+2 plus ZeRO-R) and Megatron model parallelism",
    S(model="gpt-60b", hidden=8192, layers=75, seq="unstated", global_batch="unstated", tp="unstated", pp=1, sp=0,
      cp=1, ep=1, zero=2, gpus=400, dtype="fp16", framework="deepspeed-zero-100b+megatron"),
    "tflops_per_gpu", 38, "TFLOP/s",
    "Rajbhandari et al., 'ZeRO: Memory Optimizations Toward Training Trillion Parameter Models' (SC'20, arXiv:1910.02054), "
    "Figure 3 caption (p.5) and Section 10.2; text from public copies; model shape "
    "(60B: 75 layers, hidden 8192) from a transcription of the paper's appendix configuration table (id 55050166198)",
    "Caption: 'Superlinear scalability and per GPU training throughput of a 60B parameter model using ZeRO-100B. 38 TFlops "
    "per GPU, and aggregate performance over 15 Petaflops.' Section 10.2 words it as 'over 38 TFlops per GPU' for 100B "
    "models - treat as approximate. Model-parallel degree, batch, seq not captured here (in the paper's appendix table). "
    "Low-specification row; use with care.")

# ---------------------------------------------------------------------------
# Predictions
# ---------------------------------------------------------------------------
SRC_CALC = ("Output of `calculon llm-validation -v` (seqsel_tab5 test) as stored in a public repository file "
            "(the repository holding it could not be identified). Produced by calculon-ai/calculon "
            "calculon/llm/validation.py (@ 2dd9c5c8) with systems/a100_80g.json and validation/seqsel/tab5/*.json")
calc = {"22b": (1.40, 1.14), "175b": (18.03, 13.64), "530b": (49.89, 34.47), "1t": (90.08, 66.04)}
gib = {"22b": (48.15, 52.08), "175b": (48.10, 54.07), "530b": (42.27, 53.54), "1t": (46.27, 59.15)}
for m, (pf, ps) in calc.items():
    n = korth[m][7]
    PRED.append(dict(id=f"korthikanti-gpt-{m}-{n}xa100-fullrecompute-iter", model="Calculon", predicted_value=pf,
                     unit="s", source=SRC_CALC,
                     notes=f"Calc column; Delta vs profile = 100*(1-calc/profile). Predicted memory {gib[m][0]} GiB/GPU. "
                           f"Whole table: average |error| 3.65%, max 8.87%. The SC'23 paper's own Table 2 was not "
                           f"accessible; the paper may have used an earlier Calculon version (calculon/megatron/validation.py)."))
    PRED.append(dict(id=f"korthikanti-gpt-{m}-{n}xa100-seqpar-selective-iter", model="Calculon", predicted_value=ps,
                     unit="s", source=SRC_CALC,
                     notes=f"Calc column (seqsel = sequence parallel + selective 'attn_only' recompute). Predicted memory "
                           f"{gib[m][1]} GiB/GPU. Whole table: average |error| 3.65%, max 8.87%. SC'23 paper Table 2 not "
                           f"accessible; values may differ from the paper."))

SRC_LLMA = ("cli99/llm-analysis examples/megatron-turing-nlg/README.md @ b60b392f747850d198145889205d8a3586d00282 "
            "('Latency per Iteration' table; scripts run_train.sh / run_train_ideal.sh)")
for n, cal, ideal in ((2240, 60.0, 24.23), (2800, 49.98, 19.38), (3360, 44.6, 16.15)):
    PRED.append(dict(id=f"mtnlg-530b-{n}xa100-iter", model="llm-analysis (calibrated with reported TFLOP/s)",
                     predicted_value=cal, unit="s", source=SRC_LLMA,
                     notes="NOT an independent prediction: llm-analysis was given the paper's achieved TFLOP/s as input "
                           "(--achieved_tflops), so agreement is by construction. Table header says '(m)' but values are "
                           "seconds. Assumes A100-SXM 40GB GPU config."))
    PRED.append(dict(id=f"mtnlg-530b-{n}xa100-iter", model="llm-analysis (ideal: flops_efficiency=1, hbm_memory_efficiency=1)",
                     predicted_value=ideal, unit="s", source=SRC_LLMA,
                     notes="Lower-bound analytical estimate with 100% FLOPS and memory efficiency; README reports implied "
                           "'actual FLOPS efficiency' 0.40/0.39/0.36 for 2240/2800/3360 GPUs."))


def write():
    mpath = os.path.join(HERE, "measurements.csv")
    cols = ["id", "category", "hardware", "workload", "settings", "metric", "value", "unit", "kind", "source", "notes"]
    ids = [r["id"] for r in ROWS]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, dup
    for r in ROWS:
        assert r["unit"] == UNIT[r["metric"]], r["id"]
    with open(mpath, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(ROWS)
    ppath = os.path.join(HERE, "calculon_predictions.csv")
    idset = set(ids)
    for p in PRED:
        assert p["id"] in idset, p["id"]
    with open(ppath, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["id", "model", "predicted_value", "unit", "source", "notes"],
                           quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(PRED)
    print(f"{len(ROWS)} measurement rows, {len(PRED)} prediction rows")


if __name__ == "__main__":
    write()
