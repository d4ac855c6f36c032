#pragma once
// Runs a reference case (a model folder with case.json and expected.safetensors, see
// tests/data/golden/README.md) through a backend and compares every output.

#include "backend.h"
#include "result.h"

#include <filesystem>
#include <functional>
#include <string>

namespace sala {

struct GoldenTolerances {
    double logitsMaxRelL2 = 1e-4;
    double hiddenMaxRelL2 = 1e-4;
    bool requireTokens = true;      // greedy tokens identical
    bool requireSelections = true;  // selected blocks identical
    double logitsMedianRelL2 = 1e9; // median over every compared logits row
    double minTop1Agreement = 0;    // share of rows whose argmax matches the reference

    // What a bf16 engine is held to (tests/data/golden/README.md, "bf16 engines"): about
    // twice the median error of the bf16 emulation, most top-1 choices kept, teacher-forced.
    static GoldenTolerances bf16Engine();
};

struct GoldenReport {
    double maxRelErr = 0; // largest relative L2 error over every compared row
    double maxHiddenRelErr = 0;
    bool tokensMatch = true;
    bool selectionsMatch = true;
    int rowsCompared = 0;
    double medianRelErr = 0; // over the logits rows
    int top1Agree = 0;       // prompt-last and decode rows whose argmax matches
    int top1Rows = 0;
    int schedules = 0;
    bool passed = false;
};

// `log` receives a human-readable line per schedule and per failure. The case's own
// tolerances are used unless `override` is given. Decoding is teacher-forced: the expected
// greedy tokens are fed, and the engine's own argmax is checked against them.
Result<GoldenReport> runGoldenCase(const std::filesystem::path& caseDir, BackendKind backend,
                                   const std::function<void(const std::string&)>& log,
                                   const GoldenTolerances* override = nullptr);

// ‖got − expected‖ / ‖expected‖; NaN anywhere gives +inf.
double relativeL2(const float* got, const float* expected, size_t n);

} // namespace sala
