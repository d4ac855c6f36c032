#include "import_runner.h"

#include "document_store.h"
#include "importer_registry.h"
#include "library_database.h"
#include "token_counter.h"

#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

namespace folio {

ImportRunner::ImportRunner(QString libraryPath, QObject* parent)
    : QObject(parent), libraryPath_(std::move(libraryPath)),
      cancel_(std::make_shared<std::atomic<bool>>(false)) {
    qRegisterMetaType<folio::ImportItem>();
    qRegisterMetaType<folio::ImportSummary>();
}

ImportRunner::~ImportRunner() {
    cancelAll();
    for (QFutureWatcher<void>* watcher : watchers_) watcher->waitForFinished();
}

void ImportRunner::setTokenCounter(std::shared_ptr<const TokenCounter> counter) {
    counter_ = std::move(counter);
}

void ImportRunner::cancelAll() {
    cancel_->store(true);
}

int ImportRunner::start(const QStringList& paths, const PipelineOptions& options) {
    const int job = nextJob_++;
    if (cancel_->load()) cancel_ = std::make_shared<std::atomic<bool>>(false);
    ++running_;
    emit started(job, paths);

    // The worker reaches back only through queued invocations on this object; QPointer guards
    // against a runner destroyed first (the destructor waits, but be safe during teardown).
    QPointer<ImportRunner> self(this);
    auto post = [self](auto fn) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, fn] {
                if (self) fn(self.data());
            },
            Qt::QueuedConnection);
    };
    const QString path = libraryPath_;
    std::shared_ptr<const TokenCounter> counter = counter_;
    std::shared_ptr<std::atomic<bool>> cancel = cancel_;
    auto task = [=] {
        auto db = LibraryDatabase::open(path);
        if (!db) {
            const QString error = QString::fromStdString(db.error().message);
            post([job, error](ImportRunner* r) { emit r->finished(job, {}, error); });
            return;
        }
        DocumentStore store(**db);
        ImporterRegistry registry;
        ImportPipeline pipeline(store, registry, counter.get());
        ImportControl control(cancel.get(), [&](double fraction, const QString& message) {
            post([=](ImportRunner* r) { emit r->progress(job, fraction, message); });
        });
        const ImportSummary summary =
            pipeline.run(paths, options, control, [&](const ImportItem& item) {
                post([=](ImportRunner* r) { emit r->itemDone(job, item); });
            });
        post([=](ImportRunner* r) { emit r->finished(job, summary, QString()); });
    };
    auto* watcher = new QFutureWatcher<void>(this);
    watchers_.append(watcher);
    connect(watcher, &QFutureWatcher<void>::finished, this, [this, watcher] {
        watchers_.removeOne(watcher);
        watcher->deleteLater();
        --running_;
    });
    watcher->setFuture(QtConcurrent::run(task));
    return job;
}

} // namespace folio
