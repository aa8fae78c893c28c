"""The benchmark's results as a markdown table (for the README) and a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ENGINE_LABELS = {
    "synthlake": "synthlake (defaults)",
    "synthlake_tvae": "synthlake, tvae",
    "synthlake_copula": "synthlake, gaussian_copula",
    "sdv": "SDV CTGANSynthesizer (defaults)",
    "ctgan": "raw ctgan",
    "fastctgan": "FastCTGAN, raw ctgan's settings",
}
OPERATIONS = {"profile": "profiling", "sample": "sampling"}
COLORS = {
    "synthlake": "#1f77b4",
    "synthlake_tvae": "#9467bd",
    "synthlake_copula": "#2ca02c",
    "sdv": "#ff7f0e",
    "ctgan": "#7f7f7f",
    "fastctgan": "#17becf",
}


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int | float) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _seconds(value: Any) -> str:
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def engine_rows(results: dict[str, Any]) -> list[str]:
    """One markdown row per table and engine."""
    lines = [
        "| table | rows (train / holdout) | engine | epochs / batch | wall | × SDV wall | fit | peak RSS | "
        "quality (shapes / pairs) | Δ quality vs SDV | decision tree on real holdout: syn / real (ratio) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for table in results["tables"]:
        for engine, record in table["engines"].items():
            rows = f"{table['training_rows']:,} / {table['holdout_rows']:,}"
            if record.get("status") != "ok":
                failure = f"{record.get('status')} after {_seconds(record.get('wall_seconds'))}"
                lines.append(
                    f"| {table['name']} | {rows} | {ENGINE_LABELS.get(engine, engine)} | | {failure} |" + " |" * 6
                )
                continue
            settings = record.get("settings", {})
            quality = record.get("quality", {})
            utility = record.get("utility", {})
            if "score" in quality:
                score = (
                    f"**{quality['score']:.3f}** ({quality['column_shapes']:.3f} / {quality['column_pair_trends']:.3f})"
                )
            else:
                score = quality.get("error", "n/a")
            if utility.get("metric"):
                tree = (f"{utility['metric']} {_num(utility['tstr'])} / {_num(utility['trtr'])} "
                        f"({_num(utility.get('ratio'), 2)})")  # fmt: skip
            else:
                tree = utility.get("skipped") or utility.get("error") or "n/a"
            delta = record.get("quality_minus_sdv")
            epochs = settings.get("epochs")
            if settings.get("engine") == "gaussian_copula":
                epochs = "-"
            elif settings.get("stopped_early"):
                epochs = f"{settings['epochs_trained']} of {epochs}"
            lines.append(
                f"| {table['name']} | {rows} | {ENGINE_LABELS.get(engine, engine)} | "
                f"{epochs} / {settings.get('batch_size')} | {_seconds(record['wall_seconds'])} | "
                f"{_num(record.get('wall_ratio_to_sdv'), 2)} | {_seconds(record.get('fit_seconds'))} | "
                f"{record.get('peak_rss_mib', 0):,.0f} MiB | {score} | "
                f"{'n/a' if delta is None else f'{delta:+.3f}'} | {tree} |"
            )
    return lines


def target_lines(results: dict[str, Any]) -> list[str]:
    """Per table above 5k rows: did synthlake beat SDV's quality in a quarter of its time?"""
    lines = []
    for table in results["tables"]:
        target = table.get("target", {})
        if "met" not in target:
            continue
        verdict = "met" if target["met"] else "missed"
        if not target["applies"]:
            verdict = "does not apply (5k rows or fewer), for information"
        over = "" if target["time_met"] else f", over by {target['wall_ratio'] / 0.25:.1f}×"
        detail = [f"wall time {target['wall_ratio']:.2f}× SDV's (target ≤ 0.25×{over})"]
        detail.append(f"quality {target['quality_minus_sdv']:+.3f} vs SDV (target > 0)")
        lines.append(f"- **{table['name']}**: {verdict}: " + "; ".join(detail))
    return lines


def fastpath_lines(results: dict[str, Any]) -> list[str]:
    """FastCTGAN vs raw ctgan on the same columns, epochs and batch: epoch throughput and quality."""
    lines = []
    for table in results["tables"]:
        fast, raw = table["engines"].get("fastctgan", {}), table["engines"].get("ctgan", {})
        if fast.get("status") != "ok" or raw.get("status") != "ok" or not fast.get("fit_seconds"):
            continue
        speedup = raw["fit_seconds"] / fast["fit_seconds"]
        gap = (fast.get("quality", {}).get("score") or 0) - (raw.get("quality", {}).get("score") or 0)
        verdict = "met" if speedup >= 1.5 and abs(gap) <= 0.02 else "missed"
        lines.append(
            f"- **{table['name']}**: {verdict}: fit {_seconds(raw['fit_seconds'])} → {_seconds(fast['fit_seconds'])} "
            f"(**{speedup:.2f}×** the epoch throughput, target ≥ 1.5×); quality {gap:+.3f} (target within 0.02)"
        )
    if lines:
        lines = ["Fast path at equal settings (same columns, epochs and batch size as raw ctgan):", "", *lines]
    return lines


def overhead_lines(results: dict[str, Any]) -> list[str]:
    overhead = results.get("overhead")
    if not overhead:
        return []
    if "overhead_share" not in overhead:
        return [f"Pipeline overhead: the run on {overhead['table']} did not complete ({overhead.get('error')})."]
    steps = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in overhead["steps"].items())
    return [
        f"Whole pipeline (`orchestrator.py`, papermill notebooks, PDF report) on {overhead['table']} "
        f"({overhead['rows']:,} rows, {overhead['epochs']} epochs / batch {overhead['batch_size']}, "
        f"{overhead['synthetic_rows']:,} synthetic rows): {overhead['table_seconds']:.0f} s for the table, of which "
        f"fit {overhead['fit_seconds']:.0f} s and sample {overhead['sample_seconds']:.1f} s. Everything else "
        f"(notebooks, papermill, profiling, evaluation, reporting) is **{overhead['overhead_seconds']:.0f} s, "
        f"{overhead['overhead_share']:.0%}** of the table's wall time; the PDF report step alone "
        f"{overhead['report_share']:.0%}.",
        "",
        f"Steps: {steps}.",
    ]


def workers_lines(results: dict[str, Any]) -> list[str]:
    workers = results.get("workers")
    if not workers or workers.get("ratio") is None:
        return []
    one, two = workers["workers_1"], workers["workers_2"]
    verdict = "met" if workers["ratio"] <= 0.65 else "missed"
    return [
        f"Parallel tables: {len(workers['tables'])} tables ({', '.join(workers['tables'])}; {workers['rows']:,} rows "
        f"each, {workers['epochs']} epochs) through the whole pipeline: one worker {_seconds(one['wall_seconds'])}, "
        f"`--workers 2` {_seconds(two['wall_seconds'])}: **{workers['ratio']:.2f}×** the sequential wall time "
        f"(target ≤ 0.65×: {verdict}).",
    ]


def _memory(entry: dict[str, Any]) -> str:
    peak, extra = entry.get("peak_rss_mib"), entry.get("call_extra_mib")
    if peak is None:
        return "n/a"
    return f"{peak:,.0f} MiB" + (f" (+{max(extra, 0):,.0f})" if extra is not None else "")


def scaling_lines(results: dict[str, Any]) -> list[str]:
    scaling = results.get("scaling")
    if not scaling:
        return []
    fit = scaling.get("fit", {})
    lines = [
        f"Scaling with rows ({scaling['table']}; sampling from a model trained on {fit.get('rows', '?')} rows, "
        f"{fit.get('epochs', '?')} epochs). Each measurement is its own process; peak RSS is that process's, "
        "in brackets how far memory rose above its level before the measured call (polled every 20 ms).",
        "",
        "| rows | profiling (`summarize_lakehouse`, k=10) | peak RSS (+ during the call) | "
        "sampling streamed to Delta (`sample_batches` → `write_frames`) | peak RSS (+ during the call) |",
        "|---|---|---|---|---|",
    ]
    samples = {entry["rows"]: entry for entry in scaling.get("sample", [])}
    profiles = {entry["rows"]: entry for entry in scaling.get("profile", [])}
    for rows in sorted(set(samples) | set(profiles)):
        entry, other = profiles.get(rows, {}), samples.get(rows, {})
        lines.append(
            f"| {rows:,} | {_seconds(entry.get('seconds'))} | {_memory(entry)} | "
            f"{_seconds(other.get('seconds'))} | {_memory(other)} |"
        )
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    """The results as markdown, ready to paste into the README."""
    meta = results["meta"]
    versions = ", ".join(f"{name} {version}" for name, version in meta["versions"].items() if version)
    lines = [
        f"## Benchmark ({meta['mode']} run, {meta['started'][:10]}, {meta['machine']['cpus']} CPU cores, no GPU)",
        "",
        "Each engine ran in its own process on the same training rows; wall time is that process's (start to "
        "synthetic table written), peak RSS its peak memory. Quality: SDMetrics QualityReport against the real "
        "training rows. Decision tree: trained on synthetic (TSTR) and on real (TRTR) rows, both tested on a "
        "real holdout (20%) that no engine saw; ROC-AUC for two classes, macro F1 for more, R² for regression.",
        "",
        *engine_rows(results),
        "",
    ]
    targets = target_lines(results)
    if targets:
        lines += ["Target: higher SDMetrics quality than SDV in at most a quarter of its wall time.", "", *targets, ""]
    for section in (fastpath_lines(results), overhead_lines(results), workers_lines(results), scaling_lines(results)):
        if section:
            lines += [*section, ""]
    loads = [r.get("load_average_1min_after") or 0 for t in results["tables"] for r in t["engines"].values()]
    cpus = meta["machine"]["cpus"] or 1
    if max(loads, default=0) > cpus + 0.5:
        note = (f"Note: other processes competed for the CPUs during this run (1-minute load average up to "
                f"{max(loads):.1f} on {cpus} cores); its times are inflated and ratios less reliable.")  # fmt: skip
        lines += [note, ""]
    for update in meta.get("updates", []):
        measured = ", ".join(update["tables"] + update["sections"])
        lines += [f"Re-measured on {update['started'][:16].replace('T', ' ')} UTC in a second run (`--update`): "
                  f"{measured}.", ""]  # fmt: skip
    lines += [f"Versions: {versions}. Whole benchmark: {meta.get('wall_seconds', 0) / 60:.0f} min.", ""]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Four panels: wall time, quality, decision-tree ratio per table and engine, and scaling with rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    tables = [table["name"] for table in results["tables"]]
    engines = list(dict.fromkeys(engine for table in results["tables"] for engine in table["engines"]))
    figure, axes = plt.subplots(2, 2, figsize=(14, 10), layout="constrained")
    width = 0.8 / max(len(engines), 1)
    x = np.arange(len(tables))
    panels = (
        (axes[0, 0], "Wall time per engine (s, log scale)", lambda r: r.get("wall_seconds"), "{:.0f}"),
        (axes[0, 1], "SDMetrics quality score", lambda r: r.get("quality", {}).get("score"), "{:.2f}"),
        (axes[1, 0], "Decision tree: TSTR / TRTR on real holdout", lambda r: r.get("utility", {}).get("ratio"),
         "{:.2f}"),
    )  # fmt: skip
    for axis, title, value_of, fmt in panels:
        for position, engine in enumerate(engines):
            values = []
            for table in results["tables"]:
                record = table["engines"].get(engine, {})
                value = value_of(record) if record.get("status") == "ok" else None
                values.append(np.nan if value is None else value)
            bars = axis.bar(x + (position - (len(engines) - 1) / 2) * width, values, width,
                            label=ENGINE_LABELS.get(engine, engine), color=COLORS.get(engine))  # fmt: skip
            for bar, value in zip(bars, values, strict=True):
                if not np.isnan(value):
                    axis.annotate(fmt.format(value), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                                  xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                                  fontsize=6.5, rotation=90)  # fmt: skip
        axis.set_title(title)
        axis.set_xticks(x, [f"{t['name']}\n{t['rows']:,} rows" for t in results["tables"]], fontsize=8)
        axis.grid(axis="y", alpha=0.3)
    axes[0, 0].set_yscale("log")
    walls = [r.get("wall_seconds") or 0 for t in results["tables"] for r in t["engines"].values()]
    if max(walls, default=0) > 0:
        axes[0, 0].set_ylim(top=max(walls) * 3)
    axes[0, 1].set_ylim(0, 1.15)  # room for the value labels
    axes[1, 0].set_ylim(0, 1.25)
    axes[1, 0].axhline(1.0, color="black", linewidth=0.8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    scaling = results.get("scaling")
    axis = axes[1, 1]
    if scaling:
        for operation, marker in (("profile", "o"), ("sample", "s")):
            entries = [e for e in scaling.get(operation, []) if e.get("seconds") is not None]
            if entries:
                axis.plot([e["rows"] for e in entries], [e["seconds"] for e in entries], marker=marker,
                          label=f"{OPERATIONS[operation]}: seconds")  # fmt: skip
        memory = axis.twinx()
        for operation, marker in (("profile", "o"), ("sample", "s")):
            entries = [e for e in scaling.get(operation, []) if e.get("peak_rss_mib") is not None]
            if entries:
                peaks = [e.get("call_peak_rss_mib", e["peak_rss_mib"]) for e in entries]
                memory.plot([e["rows"] for e in entries], peaks, marker=marker,
                            linestyle="--", alpha=0.6, label=f"{OPERATIONS[operation]}: peak RSS (MiB)")  # fmt: skip
        axis.set_xscale("log")
        axis.set_yscale("log")
        memory.set_ylim(bottom=0)
        axis.set_xlabel("rows")
        axis.set_ylabel("seconds")
        memory.set_ylabel("peak RSS during the call (MiB)")
        handles = axis.get_legend_handles_labels()
        more = memory.get_legend_handles_labels()
        axis.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="lower right")
        axis.set_title(f"Scaling with rows ({scaling['table']})")
        axis.grid(alpha=0.3)
    else:
        axis.set_visible(False)
    meta = results["meta"]
    figure.suptitle(f"synthlake vs SDV CTGANSynthesizer vs raw ctgan ({meta['mode']} run, {meta['started'][:10]}, "
                    f"{meta['machine']['cpus']} CPU cores)")  # fmt: skip
    figure.savefig(path, dpi=110)
    plt.close(figure)
