#include "engine_worker.h"

namespace folio {

EngineController::EngineController(QObject* parent) : QObject(parent) {
    registerEngineMetaTypes();
    worker_ = new EngineWorker; // no parent: it moves to the thread and dies there
    worker_->moveToThread(&thread_);
    thread_.setObjectName(QStringLiteral("folio-engine"));
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);

    connect(worker_, &EngineWorker::modelProgress, this, &EngineController::modelProgress);
    connect(worker_, &EngineWorker::modelLoaded, this, &EngineController::modelLoaded);
    connect(worker_, &EngineWorker::modelFailed, this, &EngineController::modelFailed);
    connect(worker_, &EngineWorker::contextProgress, this, &EngineController::contextProgress);
    connect(worker_, &EngineWorker::contextReady, this, &EngineController::contextReady);
    connect(worker_, &EngineWorker::contextFailed, this, &EngineController::contextFailed);
    connect(worker_, &EngineWorker::answerStarted, this, &EngineController::answerStarted);
    connect(worker_, &EngineWorker::answerText, this, &EngineController::answerText);
    connect(worker_, &EngineWorker::answerFinished, this, &EngineController::answerFinished);
    connect(worker_, &EngineWorker::answerFailed, this, &EngineController::answerFailed);
    connect(worker_, &EngineWorker::memoryUpdated, this, &EngineController::memoryUpdated);
    connect(worker_, &EngineWorker::speedUpdated, this, &EngineController::speedUpdated);
    thread_.start();
}

EngineController::~EngineController() {
    // Whatever runs now ends at its next chunk or token; queued calls after it are discarded
    // by quit() once the running one returns.
    worker_->requestCancel();
    worker_->requestStop();
    thread_.quit();
    thread_.wait();
}

void EngineController::loadModel(const QString& dir, const QString& backend, quint64 vramLimit,
                                 int prefillChunk) {
    QMetaObject::invokeMethod(
        worker_, [=, w = worker_] { w->loadModel(dir, backend, vramLimit, prefillChunk); },
        Qt::QueuedConnection);
}

void EngineController::openContext(const QString& key, const QString& documentText) {
    QMetaObject::invokeMethod(
        worker_, [=, w = worker_] { w->openContext(key, documentText); }, Qt::QueuedConnection);
}

void EngineController::ask(const QString& key, const QString& question,
                           const folio::AskOptions& options,
                           const QList<folio::ChatTurn>& history) {
    QMetaObject::invokeMethod(
        worker_, [=, w = worker_] { w->ask(key, question, options, history); },
        Qt::QueuedConnection);
}

void EngineController::unloadAll() {
    QMetaObject::invokeMethod(worker_, &EngineWorker::unloadAll, Qt::QueuedConnection);
}

void EngineController::setSnapshotDir(const QString& dir) {
    QMetaObject::invokeMethod(
        worker_, [=, w = worker_] { w->setSnapshotDir(dir); }, Qt::QueuedConnection);
}

void EngineController::setResidentLimits(quint64 budgetBytes, int maxContexts) {
    QMetaObject::invokeMethod(
        worker_, [=, w = worker_] { w->setResidentLimits(budgetBytes, maxContexts); },
        Qt::QueuedConnection);
}

void EngineController::setSystemPrompt(const QString& systemPrompt) {
    QMetaObject::invokeMethod(
        worker_, [=, w = worker_] { w->setSystemPrompt(systemPrompt); }, Qt::QueuedConnection);
}

void EngineController::requestCancel() {
    worker_->requestCancel();
}
void EngineController::requestStop() {
    worker_->requestStop();
}

} // namespace folio
