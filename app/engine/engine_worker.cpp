#include "engine_worker.h"

#include "engine_state.h"
#include "model_finder.h"
#include "system_memory.h"

#include <QFile>
#include <QStandardPaths>

#include <algorithm>

namespace folio {

namespace {

// The CPU backend checks for cancellation between chunks only; larger chunks would leave the
// Cancel button unanswered for many seconds on a real model.
constexpr int kCpuChunkCap = 512;
constexpr int kDefaultChunk = 512;

QString loadFailure(const QString& what, const QString& dir, const sala::Error& error) {
    return QStringLiteral("Cannot load the %1 from %2: %3")
        .arg(what, dir, QString::fromStdString(error.message));
}

} // namespace

void registerEngineMetaTypes() {
    qRegisterMetaType<folio::ModelInfo>();
    qRegisterMetaType<folio::EngineStats>();
    qRegisterMetaType<folio::MemoryReadout>();
    qRegisterMetaType<folio::AskOptions>();
    qRegisterMetaType<folio::ChatTurn>();
    qRegisterMetaType<QList<folio::ChatTurn>>();
}

EngineWorker::EngineWorker(QObject* parent)
    : QObject(parent), state_(std::make_unique<EngineState>()) {
    registerEngineMetaTypes();
}

EngineWorker::~EngineWorker() = default;

void EngineWorker::setSnapshotDir(const QString& dir) {
    state_->snapshotDir = dir;
}

void EngineWorker::setResidentLimits(quint64 budgetBytes, int maxContexts) {
    state_->budgetBytes = budgetBytes;
    state_->maxContexts = std::max(1, maxContexts);
    if (state_->loaded()) {
        state_->effectiveBudget =
            budgetBytes ? budgetBytes : defaultContextBudget(*state_->backend);
        trimResident(QString(), 0, 0);
        emitMemory();
    }
}

void EngineWorker::setSystemPrompt(const QString& systemPrompt) {
    state_->systemPrompt = systemPrompt;
}

void EngineWorker::requestCancel() {
    cancelRequested_.store(true);
}
void EngineWorker::requestStop() {
    stopRequested_.store(true);
}

QString EngineWorker::snapshotDir() const {
    if (!state_->snapshotDir.isEmpty()) return state_->snapshotDir;
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/snapshots");
}

void EngineWorker::unloadAll() {
    state_->contexts.clear();
    emitMemory();
}

// Passes each report of the backend on as modelProgress (they come every 64 MiB or tensor, a
// few hundred for a 9B model), and asks the backend to stop once requestCancel was called.
sala::LoadProgress EngineWorker::modelProgressReporter() {
    return [this](uint64_t done, uint64_t total) {
        emit modelProgress(qint64(done), qint64(total));
        return !cancelRequested_.load();
    };
}

void EngineWorker::loadModel(const QString& dir, const QString& backend, quint64 vramLimit,
                             int prefillChunk) {
    cancelRequested_.store(false);
    // Contexts belong to the old model; they go before the new weights need the memory.
    state_->contexts.clear();
    state_->backend.reset();
    state_->model.reset();
    state_->tokenizer.reset();

    const std::filesystem::path path(QFile::encodeName(dir).toStdString());
    auto kind = sala::parseBackendKind(backend.isEmpty() ? "auto" : backend.toStdString());
    if (!kind) {
        emit modelFailed(QString::fromStdString(kind.error().message));
        return;
    }
    auto tokenizer = sala::Tokenizer::load(path);
    if (!tokenizer) {
        emit modelFailed(loadFailure(QStringLiteral("tokenizer"), dir, tokenizer.error()));
        return;
    }
    auto model = sala::loadModel(path);
    if (!model) {
        emit modelFailed(loadFailure(QStringLiteral("model"), dir, model.error()));
        return;
    }
    sala::BackendOptions options;
    options.vramLimit = vramLimit;
    options.prefillChunk = prefillChunk > 0 ? prefillChunk : 8192;
    options.progress = modelProgressReporter();
    auto created = sala::createBackend(*kind, *model, options);
    if (!created && created.error().code == sala::ErrorCode::Cancelled) {
        emit modelFailed(QStringLiteral("cancelled"));
        return;
    }
    if (!created) {
        emit modelFailed(QStringLiteral("Cannot start the %1 backend: %2")
                             .arg(backend, QString::fromStdString(created.error().message)));
        return;
    }

    EngineState& s = *state_;
    s.tokenizer.emplace(std::move(tokenizer).value());
    s.model = *model;
    s.backend = std::move(created).value();
    s.prefillChunk = prefillChunk > 0 ? prefillChunk : kDefaultChunk;
    if (!s.onGpu()) s.prefillChunk = std::min(s.prefillChunk, kCpuChunkCap);
    s.stopTokens = s.model->config.eosTokenIds;
    for (int id : s.tokenizer->stopIds())
        if (!s.isStopToken(id)) s.stopTokens.push_back(id);
    s.effectiveBudget = s.budgetBytes ? s.budgetBytes : defaultContextBudget(*s.backend);

    s.info = ModelInfo{};
    s.info.dir = dir;
    s.info.backendName = QString::fromStdString(s.backend->name());
    s.info.deviceName = deviceDescription(*s.backend);
    s.info.contextCapacity = contextCapacity(*s.backend);
    s.info.isDemo = isDemoModelFolder(dir);
    emit modelLoaded(s.info);
    emitMemory();
}

void EngineWorker::emitMemory() {
    MemoryReadout r;
    r.processRss = processResidentBytes();
    r.gpu = state_->onGpu();
    if (state_->model) r.weights = state_->model->store.totalBytes();
    for (ResidentEntry* entry : state_->contexts.resident()) {
        const sala::MemoryReport m = entry->context->memory();
        r.weights = m.weights;
        r.kvCache += m.kvCache;
        r.compressedKeys += m.compressedKeys;
        r.linearState += m.linearState;
        r.checkpoints += m.checkpoints;
        r.workspace += m.workspace;
        r.deviceFree = m.deviceFree;
        r.deviceTotal = m.deviceTotal;
        r.perDocument.insert(entry->key, ownBytes(m));
    }
    emit memoryUpdated(r);
}

} // namespace folio
