"""What the benchmark reports: the headline figures, and a few lines for the terminal."""

from __future__ import annotations

from inception.benchmarking.throughput import ceiling_ratio

# The top-level figures the terminal shows, in order, where present.
REPORTED = ("inference_ratio_vs_keras", "exported_inference_ratio_vs_keras", "training_ratio_vs_keras",
            "inference_ceiling_ratio_vs_keras", "fp32_inference_ceiling_ratio_vs_keras",
            "training_ceiling_ratio_vs_keras",
            "tf_default_fp32_folded_inference_ratio_vs_keras", "pipeline_images_per_second_per_core",
            "pipeline_images_per_cpu_second", "decoder_images_per_cpu_second", "fraction_of_decoder_rate",
            "colour_on_accelerator_images_per_cpu_second", "colour_on_accelerator_fraction_of_decoder_rate",
            "top1_agreement_with_fp32")
INPUT_PIPELINE_FIGURES = ("pipeline_images_per_second_per_core", "pipeline_images_per_cpu_second",
                          "decoder_images_per_cpu_second", "fraction_of_decoder_rate",
                          "colour_on_accelerator_images_per_cpu_second",
                          "colour_on_accelerator_fraction_of_decoder_rate")


def _ratio_of_ratios(paths: dict, path: str, reference: str) -> float:
    return round(paths[path]["ratio_vs_baseline"] / paths[reference]["ratio_vs_baseline"], 3)


def headline(results: dict) -> dict:
    """The figures the issue asks for, picked from the detailed ones."""
    paths = results["inference"]["paths"]
    training = results["training"]["paths"]
    fast = "int8" if "int8" in paths else "folded_predict_on_batch"
    exported = "int8_exported" if "int8_exported" in paths else "folded_exported"
    figures = {
        "fast_inference_path": fast,
        "inference_ratio_vs_keras": paths[fast]["ratio_vs_baseline"],
        "inference_ratio_vs_keras_tf_function": _ratio_of_ratios(paths, fast, "keras_tf_function"),
        "exported_inference_ratio_vs_keras": paths[exported]["ratio_vs_baseline"],
        "exported_inference_ratio_vs_keras_exported": _ratio_of_ratios(paths, exported, "keras_exported"),
        "fp32_folded_inference_ratio_vs_keras": paths["folded_predict_on_batch"]["ratio_vs_baseline"],
        "training_ratio_vs_keras": training["ours_fit_full_recipe"]["ratio_vs_baseline"],
        # What the hardware allows: see `ceiling_ratio`.
        "inference_ceiling_ratio_vs_keras": ceiling_ratio(paths[fast]),
        "fp32_inference_ceiling_ratio_vs_keras": ceiling_ratio(paths["folded_predict_on_batch"]),
        "training_ceiling_ratio_vs_keras": ceiling_ratio(training["ours_fit_full_recipe"]),
    }
    if "tf_default" in results:
        figures["tf_default_fp32_folded_inference_ratio_vs_keras"] = results["tf_default"]["inference"][
            "paths"]["folded_predict_on_batch"]["ratio_vs_baseline"]
    if "input_pipeline" in results:
        figures.update({key: results["input_pipeline"][key] for key in INPUT_PIPELINE_FIGURES})
    if "agreement" in results:
        figures["top1_agreement_with_fp32"] = results["agreement"]["top1_agreement_with_fp32"]
    return figures


def _throughput_lines(results: dict) -> list:
    lines = []
    for section in ("inference", "training"):
        for name, f in results[section]["paths"].items():
            lines.append(f"{section:9s} {name:34s} {f['images_per_second']:7.2f} images/s  "
                         f"x{f['ratio_vs_baseline']:.2f} (CPU-time x{f['cpu_ratio_vs_baseline']:.2f})  "
                         f"{100 * f['fraction_of_fp32_matmul_peak']:5.1f}% of fp32 matmul")
        lines.append(f"{section:9s} matmul G ops/s: {results[section]['matmul_ops_per_second']}")
    return lines


def _memory_lines(results: dict) -> list:
    return [f"memory    {section} {name}: peak {m['peak_rss_mib']} MiB "
            f"({m['peak_over_idle_mib']} MiB over an idle TensorFlow process)"
            for section, paths in results.get("memory", {}).items() for name, m in paths.items()]


def report(results: dict) -> str:
    """A few lines for the terminal; the JSON has everything."""
    from inception.machine import isa_summary

    machine = results["machine"]
    lines = [f"{machine['cpu']} ({isa_summary(machine)}), {machine['cores']} cores, "
             f"TensorFlow {machine.get('tensorflow')}, oneDNN on; load average {results['load_average']}"]
    lines += _throughput_lines(results) + _memory_lines(results)
    lines += [f"{key}: {results[key]}" for key in REPORTED if key in results]
    overhead = {r: d["overhead_ratio"] for r, d in results["distribution_overhead"].items()}
    lines.append(f"distribution overhead (global step / R single steps): {overhead}")
    return "\n".join(lines)
