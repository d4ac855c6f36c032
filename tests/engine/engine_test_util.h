#pragma once
// Shared helpers of the engine tests: open reference-case models and read their prompts.

#include "backend.h"
#include "file_util.h"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <random>
#include <string>
#include <vector>

namespace testutil {

inline std::string goldenDir(const char* name) {
    return std::string(FOLIO_TEST_DATA_DIR "/golden/") + name;
}

inline std::vector<int> goldenPrompt(const char* name) {
    auto text = sala::readTextFile(goldenDir(name) + "/case.json");
    if (!text) return {};
    return nlohmann::json::parse(*text).at("prompt").get<std::vector<int>>();
}

inline std::unique_ptr<sala::Backend> cpuBackend(const char* name, int threads = 0) {
    auto model = sala::loadModel(goldenDir(name));
    if (!model) return nullptr;
    sala::BackendOptions options;
    options.threads = threads;
    auto backend = sala::createBackend(sala::BackendKind::Cpu, *model, options);
    if (!backend) return nullptr;
    return std::move(backend).value();
}

inline std::unique_ptr<sala::Context> newContext(sala::Backend& backend) {
    auto ctx = backend.createContext();
    return ctx ? std::move(ctx).value() : nullptr;
}

// Random split of n into chunks of 1..maxChunk.
inline std::vector<int> randomChunks(int n, int maxChunk, std::mt19937& rng) {
    std::vector<int> chunks;
    while (n > 0) {
        int c = std::uniform_int_distribution<int>(1, std::min(n, maxChunk))(rng);
        chunks.push_back(c);
        n -= c;
    }
    return chunks;
}

} // namespace testutil
