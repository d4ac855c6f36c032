#include "bench_prefill.h"

#include "bench_clock.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

namespace folio::bench {

namespace {

int argmax(const std::vector<float>& v) {
    return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

// The state file, if it loads into a new context and holds `length` tokens; else why not.
sala::Result<std::unique_ptr<sala::Context>>
reopen(sala::Backend& backend, const std::filesystem::path& file, int64_t length, int64_t extra) {
    auto created = backend.createContext();
    if (!created) return created.error();
    std::unique_ptr<sala::Context> ctx = std::move(*created);
    SALA_TRY(ctx->reserve(length + extra));
    SALA_TRY(ctx->load(file));
    if (ctx->position() != length)
        return sala::makeError(sala::ErrorCode::Mismatch,
                               "it holds " + std::to_string(ctx->position()) + " tokens");
    return ctx;
}

} // namespace

std::filesystem::path prefillStateFile(const std::filesystem::path& folder,
                                       const sala::Model& model, int64_t length, uint64_t seed) {
    char name[96];
    std::snprintf(name, sizeof name, "folio-bench-prefill-%016llx-%lld-seed%llu.folioctx",
                  static_cast<unsigned long long>(model.fingerprint),
                  static_cast<long long>(length), static_cast<unsigned long long>(seed));
    return folder / name;
}

PrefillRun prefillContext(sala::Backend& backend, int64_t length, int64_t extra, int chunk,
                          uint64_t seed, const std::optional<std::filesystem::path>& stateFolder,
                          const std::function<void(bool)>& onPrefill) {
    PrefillRun run;
    const sala::ModelConfig& c = backend.model().config;
    std::mt19937 rng(static_cast<uint32_t>(seed));
    std::uniform_int_distribution<int> token(3, c.vocabSize - 1);
    std::optional<std::filesystem::path> file;
    if (stateFolder) file = prefillStateFile(*stateFolder, backend.model(), length, seed);

    std::error_code ec;
    if (file && std::filesystem::exists(*file, ec)) {
        const auto start = Clock::now();
        auto reopened = reopen(backend, *file, length, extra);
        if (reopened) {
            run.context = std::move(*reopened);
            run.reopened = true;
            run.reopenSeconds = secondsSince(start);
            // The prefill's last logits are not in the file; decode speed does not depend on
            // the token, so the first step reads a drawn one.
            run.next = token(rng);
            return run;
        }
        run.note = "state file " + file->string() + " not used (" + reopened.error().message +
                   "): prefilled again";
    }

    auto created = backend.createContext();
    if (!created) {
        run.error = created.error().message;
        return run;
    }
    run.context = std::move(*created);
    if (auto st = run.context->reserve(length + extra); !st.ok()) {
        run.error = st.error().message;
        return run;
    }
    std::vector<int> ids(static_cast<size_t>(chunk));
    sala::ForwardOutput out;
    if (onPrefill) onPrefill(true);
    const auto start = Clock::now();
    for (int64_t done = 0; done < length;) {
        const int64_t n = std::min<int64_t>(chunk, length - done);
        for (int64_t i = 0; i < n; ++i) ids[i] = token(rng);
        if (auto st = run.context->forward(std::span<const int>(ids.data(), n), {}, out);
            !st.ok()) {
            run.error = "at token " + std::to_string(done) + ": " + st.error().message;
            return run;
        }
        done += n;
    }
    run.prefillSeconds = secondsSince(start);
    run.next = argmax(out.logits);
    run.ttftSeconds = secondsSince(start);
    if (onPrefill) onPrefill(false);
    if (file) {
        std::filesystem::create_directories(*stateFolder, ec);
        if (auto st = run.context->save(*file); !st.ok())
            run.note = "state not saved: " + st.error().message;
    }
    return run;
}

} // namespace folio::bench
