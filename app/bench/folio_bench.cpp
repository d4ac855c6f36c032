// folio-bench: prefill and decode speed and memory of the engine at several context lengths,
// each figure set against the device's measured ceilings. No Qt.

#include "bench_clock.h"
#include "bench_model.h"
#include "bench_prefill.h"
#include "bench_snapshot.h"
#include "cli_args.h"
#include "kernel_timeline.h"
#ifdef FOLIO_HAVE_CUPTI
#include "cupti_recorder.h"
#endif

#include "backend.h"
#include "decoder.h"
#include "memory_plan.h"
#ifdef FOLIO_HAVE_CUDA
#include "cuda/device_ceilings.h"
#endif

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string_view>

using folio::bench::Clock;
using folio::bench::secondsSince;
using folio::cli::Args;

namespace {

const char* kHelp =
    "Usage: folio-bench (--config CONFIG.json --random-weights | --model DIR)\n"
    "                   [--contexts 8192,131072,1048576] [--decode 256] [--chunk 8192]\n"
    "                   [--vram-limit 32G] [--backend auto|cpu|cuda] [--json OUT] [--seed S]\n"
    "                   [--no-graphs] [--no-warm-up] [--cublas-decode] [--snapshot-dir DIR]\n"
    "                   [--timeline] [--prefill-states DIR] [--selection-overlap-from N]\n"
    "Measures per context length: prefill tok/s, time to first token, decode tok/s, and\n"
    "memory by category; with the CUDA backend also the device's bf16 GEMM rate and copy\n"
    "bandwidth, and each figure as a fraction of its roofline. --no-graphs launches each decode\n"
    "step's kernels one by one instead of replaying a captured CUDA graph (for comparison).\n"
    "--no-warm-up skips the scratch chunk the CUDA backend runs while loading, so that the first\n"
    "prefill also loads the kernels (as it did before the warm-up existed).\n"
    "--cublas-decode runs the decode step's weight products through cuBLASLt (with the norm and\n"
    "SwiGLU kernels before them) instead of Folio's matrix-vector kernel (for comparison).\n"
    "--snapshot-dir saves each prefilled context to a state file in DIR, evicts the file from\n"
    "the page cache and times reopening it in a new context (the file is removed after).\n"
    "--timeline records every kernel, copy and memset on the GPU (CUPTI) and prints, per\n"
    "context, where the prefill and the decode steps spent their time and where the GPU idled;\n"
    "recording costs host time between decode steps, so take speeds from a run without it.\n"
    "--prefill-states reopens each context from a state file in DIR that an earlier run of the\n"
    "same model, length and seed saved there, instead of prefilling it (its prefill figures are\n"
    "then not measured); a context that has no such file is prefilled and saved there. For A/B\n"
    "runs of decode speed between builds whose state files have the same format.\n"
    "--selection-overlap-from sets the position from which a sparse layer's block selection\n"
    "runs beside its attention in prefill chunks (default the engine's; -1: never).\n";

// GPU clock readings around the timed phases of one context, for the timeline.
struct PhaseMarks {
    uint64_t prefillBegin = 0, prefillEnd = 0, decodeBegin = 0, decodeEnd = 0;
};

struct Row {
    int64_t context = 0;
    double prefillSeconds = 0, ttftSeconds = 0, decodeTokS = 0;
    bool reopened = false; // from --prefill-states: no prefill figures
    double reopenSeconds = 0;
    int decoded = 0;
    sala::MemoryReport memory;
    double prefillFraction = 0, decodeFraction = 0;
    folio::bench::SnapshotTiming snapshot;
    bool snapshotRun = false;
    PhaseMarks marks;
    std::string error;
};

std::vector<int64_t> parseList(const std::string& s) {
    std::vector<int64_t> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoll(item));
    return out;
}

double gib(uint64_t b) {
    return b / (1024.0 * 1024 * 1024);
}

// `gpuClock`, when set, reads the timeline's clock for the phase marks.
Row runContext(sala::Backend& backend, int64_t length, int decode, int chunk, uint64_t seed,
               const std::optional<std::string>& snapshotDir,
               const std::optional<std::string>& statesDir,
               const std::function<uint64_t()>& gpuClock) {
    auto mark = [&] { return gpuClock ? gpuClock() : 0; };
    Row row;
    row.context = length;
    std::optional<std::filesystem::path> states;
    if (statesDir) states = *statesDir;
    folio::bench::PrefillRun prefilled = folio::bench::prefillContext(
        backend, length, decode, chunk, seed, states,
        [&](bool begins) { (begins ? row.marks.prefillBegin : row.marks.prefillEnd) = mark(); });
    if (!prefilled.note.empty()) std::fprintf(stderr, "folio-bench: %s\n", prefilled.note.c_str());
    if (!prefilled.error.empty()) {
        row.error = prefilled.error;
        return row;
    }
    std::unique_ptr<sala::Context> ctx = std::move(prefilled.context);
    row.prefillSeconds = prefilled.prefillSeconds;
    row.ttftSeconds = prefilled.ttftSeconds;
    row.reopened = prefilled.reopened;
    row.reopenSeconds = prefilled.reopenSeconds;
    int next = prefilled.next;
    row.memory = ctx->memory();
    // Decode as generation does: greedy, drawn by the backend (on the GPU for CUDA).
    sala::SamplingParams greedy;
    greedy.temperature = 0;
    sala::Sampler sampler(greedy);
    row.marks.decodeBegin = mark();
    const auto start = Clock::now();
    {
        // As generation decodes; the last token drawn does not join the context.
        const std::unique_ptr<sala::Decoder> decoder = ctx->decoder(sampler);
        for (int i = 0; i < decode; ++i) {
            auto drawn = decoder->next(next);
            if (!drawn) {
                row.error = drawn.error().message;
                return row;
            }
            next = *drawn;
            ++row.decoded;
        }
        if (const sala::Status ended = decoder->finish(next, false); !ended.ok()) {
            row.error = ended.error().message;
            return row;
        }
    }
    const double decodeSeconds = secondsSince(start);
    row.marks.decodeEnd = mark();
    row.decodeTokS = decode > 0 ? decode / decodeSeconds : 0;
    if (snapshotDir) {
        row.snapshotRun = true;
        row.snapshot = folio::bench::measureSnapshot(backend, ctx, next, *snapshotDir);
    }
    return row;
}

void printTable(const std::vector<Row>& rows, double tflops, double gbs) {
    std::printf("\n| context | prefill tok/s | TTFT s | decode tok/s | weights GiB | KV GiB | "
                "compressed GiB | linear GiB | workspace GiB | device used GiB | prefill/roof | "
                "decode/roof |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const Row& r : rows) {
        if (!r.error.empty()) {
            std::printf("| %lld | failed: %s |\n", (long long)r.context, r.error.c_str());
            continue;
        }
        const sala::MemoryReport& m = r.memory;
        char prefill[48], ttft[32];
        if (r.reopened) {
            std::snprintf(prefill, sizeof prefill, "- (state reopened in %.2f s)", r.reopenSeconds);
            std::snprintf(ttft, sizeof ttft, "-");
        } else {
            std::snprintf(prefill, sizeof prefill, "%.0f", r.context / r.prefillSeconds);
            std::snprintf(ttft, sizeof ttft, "%.3f", r.ttftSeconds);
        }
        std::printf("| %lld | %s | %s | %.1f | %.2f | %.2f | %.3f | %.3f | %.2f | %.2f | "
                    "%s | %s |\n",
                    (long long)r.context, prefill, ttft, r.decodeTokS, gib(m.weights),
                    gib(m.kvCache), gib(m.compressedKeys), gib(m.linearState + m.checkpoints),
                    gib(m.workspace), gib(m.deviceTotal - m.deviceFree),
                    tflops > 0 && !r.reopened
                        ? std::to_string(r.prefillFraction).substr(0, 5).c_str()
                        : "-",
                    gbs > 0 ? std::to_string(r.decodeFraction).substr(0, 5).c_str() : "-");
    }
}

void printSnapshotTable(const std::vector<Row>& rows) {
    std::printf("\n| context | state file GiB | save s | fsync s | reopen s | page cache evicted | "
                "next token after reopen |\n|---|---|---|---|---|---|---|\n");
    for (const Row& r : rows) {
        if (!r.error.empty() || !r.snapshotRun) continue;
        const auto& s = r.snapshot;
        if (!s.error.empty()) {
            std::printf("| %lld | failed: %s |\n", (long long)r.context, s.error.c_str());
            continue;
        }
        std::printf("| %lld | %.2f | %.2f | %.2f | %.2f | %s | %s |\n", (long long)r.context,
                    gib(s.fileBytes), s.saveSeconds, s.syncSeconds, s.reopenSeconds,
                    s.evicted ? "yes" : "no", s.sameNextToken ? "same" : "DIFFERENT");
    }
}

// Prints where the prefill and the decode steps of one context spent their GPU time and adds
// the largest entries to its JSON record.
void reportTimeline(const Row& r, int chunk, const std::vector<folio::bench::TimelineRecord>& recs,
                    nlohmann::json& j) {
    using namespace folio::bench;
    const int chunks = static_cast<int>((r.context + chunk - 1) / chunk);
    const struct {
        const char* key;
        uint64_t from, to;
        int passes;
        const char* passName;
    } phases[] = {{"prefill", r.marks.prefillBegin, r.marks.prefillEnd, chunks, "chunks"},
                  {"decode", r.marks.decodeBegin, r.marks.decodeEnd, r.decoded, "steps"}};
    for (const auto& p : phases) {
        if (r.reopened && std::string_view(p.key) == "prefill") continue; // none ran
        // Decode steps are alike; prefill chunks are not (each sees a longer context).
        const bool spread = std::string_view(p.key) == "prefill";
        const TimelineSummary s = summarizeTimeline(recs, p.from, p.to, spread ? p.passes : 1);
        const std::string title = std::string(p.key) + " of context " + std::to_string(r.context) +
                                  " (" + std::to_string(p.passes) + " " + p.passName + ")";
        std::fputs(formatTimeline(s, title, p.passes, 15).c_str(), stdout);
        nlohmann::json& out = j["timeline"][p.key];
        out["span_ms"] = s.span / 1e6;
        out["busy_ms"] = s.busy / 1e6;
        for (size_t i = 0; i < s.entries.size() && i < 30; ++i)
            out["kernels"].push_back({{"name", s.entries[i].name},
                                      {"count", s.entries[i].count},
                                      {"ms", s.entries[i].nanoseconds / 1e6}});
    }
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
    Args args(std::vector<std::string>(argv + 1, argv + argc),
              {"config", "model", "contexts", "decode", "chunk", "vram-limit", "backend", "json",
               "seed", "threads", "snapshot-dir", "prefill-states", "selection-overlap-from"});
    if (args.has("help")) {
        std::fputs(kHelp, stdout);
        return 0;
    }
    const auto config = args.value("config");
    const auto modelDir = args.value("model");
    const bool random = args.has("random-weights");
    const std::vector<int64_t> contexts = parseList(args.value("contexts").value_or("8192"));
    const int decode = static_cast<int>(args.integer("decode", 256));
    sala::BackendOptions options;
    options.prefillChunk = static_cast<int>(args.integer("chunk", 8192));
    options.threads = static_cast<int>(args.integer("threads", 0));
    options.seed = static_cast<uint64_t>(args.integer("seed", 1));
    options.randomWeights = random;
    options.decodeGraphs = !args.has("no-graphs");
    options.warmUp = !args.has("no-warm-up");
    options.decodeProducts = !args.has("cublas-decode");
    options.selectionOverlapFrom =
        args.integer("selection-overlap-from", options.selectionOverlapFrom);
    if (auto limit = args.value("vram-limit")) {
        auto bytes = sala::parseByteSize(*limit);
        if (!bytes) {
            std::fprintf(stderr, "folio-bench: %s\n", bytes.error().message.c_str());
            return 2;
        }
        options.vramLimit = *bytes;
    }
    auto kind = sala::parseBackendKind(args.value("backend").value_or("auto"));
    if (!args.ok() || !kind || (random ? !config : !modelDir) || contexts.empty()) {
        std::fprintf(stderr, "folio-bench: %s\n%s",
                     !args.ok() ? args.error().c_str()
                     : !kind    ? kind.error().message.c_str()
                                : "needs --config FILE --random-weights, or --model DIR",
                     kHelp);
        return 2;
    }
    auto model = random ? sala::configOnlyModel(*config, options.seed) : sala::loadModel(*modelDir);
    if (!model) {
        std::fprintf(stderr, "folio-bench: %s\n", model.error().message.c_str());
        return 1;
    }
    double tflops = 0, gbs = 0;
    nlohmann::json report;
#ifdef FOLIO_HAVE_CUDA
    if (*kind != sala::BackendKind::Cpu && sala::cudaBackendAvailable()) {
        auto ceilings = sala::cuda::measureCeilings();
        if (!ceilings) {
            std::fprintf(stderr, "folio-bench: %s\n", ceilings.error().message.c_str());
            return 1;
        }
        tflops = ceilings->gemmTflops;
        gbs = ceilings->copyGBs;
        std::printf("device: %s, %.1f GiB; bf16 GEMM %.0f TFLOP/s; copy %.0f GB/s\n",
                    ceilings->device.c_str(), ceilings->totalMemoryGiB, tflops, gbs);
        report["device"] = ceilings->device;
        report["gemm_tflops"] = tflops;
        report["copy_gbs"] = gbs;
    }
#endif
    const auto loadStart = Clock::now();
    auto backend = sala::createBackend(*kind, *model, options);
    if (!backend) {
        std::fprintf(stderr, "folio-bench: %s\n", backend.error().message.c_str());
        return 1;
    }
    const double loadSeconds = secondsSince(loadStart);
    std::printf("backend: %s, chunk %d, decode graphs %s, decode products %s, ready in %.2f s "
                "(warm-up %s)\n",
                (*backend)->name().c_str(), options.prefillChunk,
                options.decodeGraphs ? "on" : "off", options.decodeProducts ? "gemv" : "cuBLASLt",
                loadSeconds, options.warmUp ? "on" : "off");
    report["load_seconds"] = loadSeconds;
    std::function<uint64_t()> gpuClock;
    std::function<std::vector<folio::bench::TimelineRecord>()> takeRecords;
#ifdef FOLIO_HAVE_CUPTI
    std::unique_ptr<folio::bench::CuptiRecorder> recorder;
    if (args.has("timeline")) {
        std::string why;
        recorder = folio::bench::CuptiRecorder::start(why);
        if (!recorder) {
            std::fprintf(stderr, "folio-bench: no timeline: %s\n", why.c_str());
            return 1;
        }
        gpuClock = [&] { return recorder->now(); };
        takeRecords = [&] { return recorder->take(); };
    }
#else
    if (args.has("timeline")) {
        std::fputs("folio-bench: --timeline needs a build with CUDA 13 and CUPTI\n", stderr);
        return 2;
    }
#endif
    std::vector<Row> rows;
    const sala::ModelConfig& c = (*model)->config;
    for (int64_t length : contexts) {
        Row r = runContext(**backend, length, decode, options.prefillChunk, options.seed,
                           args.value("snapshot-dir"), args.value("prefill-states"), gpuClock);
        if (r.error.empty() && tflops > 0) {
            if (!r.reopened)
                r.prefillFraction =
                    folio::bench::prefillFlops(c, length) / r.prefillSeconds / 1e12 / tflops;
            r.decodeFraction = folio::bench::decodeBytes(c, length) * r.decodeTokS / 1e9 / gbs;
        }
        std::printf("context %lld: %s\n", (long long)length,
                    r.error.empty() ? "done" : r.error.c_str());
        std::fflush(stdout);
        rows.push_back(r);
        nlohmann::json j = {{"context", r.context},
                            {"error", r.error},
                            {"prefill_seconds", r.prefillSeconds},
                            {"prefill_tok_s", r.prefillSeconds > 0 ? length / r.prefillSeconds : 0},
                            {"ttft_seconds", r.ttftSeconds},
                            {"state_reopened", r.reopened},
                            {"state_reopen_seconds", r.reopenSeconds},
                            {"decode_tok_s", r.decodeTokS},
                            {"prefill_roofline_fraction", r.prefillFraction},
                            {"decode_roofline_fraction", r.decodeFraction},
                            {"memory",
                             {{"weights", r.memory.weights},
                              {"kv_cache", r.memory.kvCache},
                              {"compressed_keys", r.memory.compressedKeys},
                              {"linear_state", r.memory.linearState},
                              {"checkpoints", r.memory.checkpoints},
                              {"workspace", r.memory.workspace},
                              {"device_free", r.memory.deviceFree},
                              {"device_total", r.memory.deviceTotal}}}};
        if (r.snapshotRun)
            j["snapshot"] = {{"error", r.snapshot.error},
                             {"file_bytes", r.snapshot.fileBytes},
                             {"save_seconds", r.snapshot.saveSeconds},
                             {"fsync_seconds", r.snapshot.syncSeconds},
                             {"reopen_seconds", r.snapshot.reopenSeconds},
                             {"page_cache_evicted", r.snapshot.evicted},
                             {"same_next_token", r.snapshot.sameNextToken}};
        if (takeRecords && r.error.empty())
            reportTimeline(r, options.prefillChunk, takeRecords(), j);
        report["runs"].push_back(j);
    }
    printTable(rows, tflops, gbs);
    if (args.value("snapshot-dir")) printSnapshotTable(rows);
    if (auto out = args.value("json")) std::ofstream(*out) << report.dump(2) << "\n";
    for (const Row& r : rows)
        if (!r.error.empty() || !r.snapshot.error.empty() ||
            (r.snapshotRun && !r.snapshot.sameNextToken))
            return 1;
    return 0;
}
