#include "main_window.h"

#include "bundled_resources.h"
#include "chat_panel.h"
#include "context_meter.h"
#include "document_store.h"
#include "document_view.h"
#include "import_runner.h"
#include "library_database.h"
#include "library_model.h"
#include "memory_panel.h"
#include "speed_panel.h"

#include <QAction>
#include <QApplication>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTimer>
#include <QTreeView>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace folio {

MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent)
    : QMainWindow(parent), options_(options) {
    store_ = options.settingsFile.isEmpty() ? std::make_unique<Settings>()
                                            : std::make_unique<Settings>(options.settingsFile);
    values_ = store_->values();
    setWindowTitle(tr("Folio"));
    setAcceptDrops(true);
    resize(1400, 860);

    const QString libraryPath = store_->libraryPath();
    auto db = LibraryDatabase::open(libraryPath);
    if (db) {
        db_ = std::move(*db);
        docs_ = std::make_unique<DocumentStore>(*db_);
    }
    samplesFolder_ =
        firstFolderWithSamples(samplesSearchPath(QCoreApplication::applicationDirPath()));
    engine_ = new EngineController(this);
    runner_ = new ImportRunner(libraryPath, this);
    buildLayout();
    buildMenus();
    connectImports();
    connectEngine();
    configureEngine();
    chat_->setDatabase(db_.get());
    if (!db_)
        statusBar()->showMessage(tr("The library could not be opened: %1")
                                     .arg(QString::fromStdString(db.error().message)));
    refreshLibrary();
    reloadModel();
}

MainWindow::~MainWindow() {
    // The import threads use the library file; stop them before the connection closes.
    delete runner_;
    runner_ = nullptr;
}

QWidget* MainWindow::buildSidebar() {
    model_ = new LibraryModel(this);
    tree_ = new QTreeView;
    tree_->setModel(model_);
    tree_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    tree_->setUniformRowHeights(true);
    // Titles get whatever the counts and statuses leave, so a narrow sidebar still shows them.
    tree_->header()->setSectionResizeMode(LibraryModel::TitleColumn, QHeaderView::Stretch);
    tree_->header()->setSectionResizeMode(LibraryModel::TokensColumn,
                                          QHeaderView::ResizeToContents);
    tree_->header()->setSectionResizeMode(LibraryModel::StatusColumn,
                                          QHeaderView::ResizeToContents);
    tree_->header()->setStretchLastSection(false);
    tree_->setAlternatingRowColors(true);
    imports_ = new QTreeWidget;
    imports_->setHeaderLabels({tr("Imports")});
    imports_->setMaximumHeight(160);

    // Shown while the library is empty: how to fill it, and the bundled samples when there are.
    emptyHint_ = new QWidget;
    auto* hintLayout = new QVBoxLayout(emptyHint_);
    hintLayout->setContentsMargins(4, 4, 4, 4);
    auto* hint = new QLabel(tr("Your library is empty. Import files or folders (File ▸ Import), "
                               "or drop them onto the window."));
    hint->setWordWrap(true);
    samplesButton_ = new QPushButton(tr("Import the sample documents"));
    samplesButton_->setToolTip(samplesFolder_);
    samplesButton_->setVisible(!samplesFolder_.isEmpty());
    connect(samplesButton_, &QPushButton::clicked, this, &MainWindow::importSamples);
    hintLayout->addWidget(hint);
    hintLayout->addWidget(samplesButton_);

    auto* sidebar = new QWidget;
    auto* sideLayout = new QVBoxLayout(sidebar);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    sideLayout->addWidget(new QLabel(tr("<b>Library</b>")));
    sideLayout->addWidget(tree_, 1);
    sideLayout->addWidget(emptyHint_);
    sideLayout->addWidget(imports_);
    return sidebar;
}

void MainWindow::buildLayout() {
    QWidget* sidebar = buildSidebar();
    documents_ = new DocumentView;
    chat_ = new ChatPanel;
    memory_ = new MemoryPanel;
    speed_ = new SpeedPanel;
    sideTabs_ = new QTabWidget;
    sideTabs_->addTab(chat_, tr("Chat"));
    sideTabs_->addTab(memory_, tr("Memory"));
    sideTabs_->addTab(speed_, tr("Speed"));

    auto* splitter = new QSplitter;
    splitter->addWidget(sidebar);
    splitter->addWidget(documents_);
    splitter->addWidget(sideTabs_);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 5);
    splitter->setStretchFactor(2, 4);
    splitter->setSizes({320, 620, 460});

    demoBanner_ = new QLabel(tr("<b>Demo model — answers are not from MiniCPM-SALA.</b> Folio is "
                                "running its small bundled demo model. "
                                "<a href=\"guide\">How to get the real model…</a>"));
    demoBanner_->setStyleSheet(QStringLiteral(
        "background: #fde2e1; color: #7a1d16; padding: 6px; border: 1px solid #e3a29c;"));
    demoBanner_->setTextFormat(Qt::RichText);
    demoBanner_->hide();
    connect(demoBanner_, &QLabel::linkActivated, this, [this] {
        showFirstRunGuide(tr("Folio is running its bundled demo model, a small model trained for "
                             "the demonstration; its answers are not those of MiniCPM-SALA."));
    });
    auto* central = new QWidget;
    auto* centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    centralLayout->addWidget(demoBanner_);
    centralLayout->addWidget(splitter, 1);
    setCentralWidget(central);

    meter_ = new ContextMeter;
    buildModelStatus();
    statusBar()->addPermanentWidget(meter_);

    connect(tree_, &QTreeView::activated, this, [this](const QModelIndex& index) {
        if (const qint64 id = index.data(LibraryModel::DocumentIdRole).toLongLong(); id > 0)
            openDocument(id);
    });
    connect(tree_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::onSelectionChanged);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Import &files…"), QKeySequence::Open, this, [this] {
        const QStringList paths = QFileDialog::getOpenFileNames(this, tr("Import files"));
        if (!paths.isEmpty()) importPaths(paths);
    });
    file->addAction(tr("Import f&older…"), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Import folder"));
        if (!dir.isEmpty()) importPaths({dir});
    });
    file->addSeparator();
    file->addAction(tr("&Load model"), this, [this] {
        engine_->unloadAll();
        reloadModel();
    });
    file->addAction(tr("&Settings…"), QKeySequence::Preferences, this, &MainWindow::openSettings);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* chat = menuBar()->addMenu(tr("&Chat"));
    chat->addAction(tr("&New conversation"), this, [this] {
        sideTabs_->setCurrentWidget(chat_);
        chat_->newConversation();
    });
    chat->addAction(tr("&Export conversation…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export conversation"), tr("conversation.md"), tr("Markdown (*.md)"));
        QString error;
        if (!path.isEmpty() && !exportConversation(path, &error))
            QMessageBox::warning(this, tr("Export failed"), error);
    });
}

void MainWindow::connectImports() {
    connect(runner_, &ImportRunner::started, this, [this](int job, const QStringList& paths) {
        auto* item = new QTreeWidgetItem(imports_, {tr("Importing %1…").arg(paths.join(", "))});
        item->setIcon(0, style()->standardIcon(QStyle::SP_BrowserReload));
        item->setToolTip(0, paths.join('\n'));
        jobItems_.insert(job, item);
        imports_->scrollToItem(item);
    });
    connect(runner_, &ImportRunner::progress, this,
            [this](int job, double fraction, const QString& message) {
                if (QTreeWidgetItem* item = jobItems_.value(job))
                    item->setText(0, tr("%1% — %2").arg(qRound(fraction * 100)).arg(message));
            });
    connect(runner_, &ImportRunner::itemDone, this, [this](int job, const ImportItem& result) {
        QTreeWidgetItem* item = jobItems_.value(job);
        if (!item) return;
        if (result.outcome == ImportItem::Outcome::Failed) {
            auto* child =
                new QTreeWidgetItem(item, {tr("%1: %2").arg(result.path, result.message)});
            child->setIcon(0, style()->standardIcon(QStyle::SP_MessageBoxCritical));
            item->setExpanded(true);
        }
        for (const QString& warning : result.warnings)
            new QTreeWidgetItem(item, {tr("%1: %2").arg(result.path, warning)});
        refreshLibrary();
    });
    connect(
        runner_, &ImportRunner::finished, this,
        [this](int job, const ImportSummary& s, const QString& error) {
            QTreeWidgetItem* item = jobItems_.take(job);
            const QString text =
                !error.isEmpty()
                    ? tr("Import failed: %1").arg(error)
                    : tr("Imported: %1 added, %2 updated, %3 unchanged, %4 duplicate, %5 failed")
                          .arg(s.added)
                          .arg(s.updated)
                          .arg(s.unchanged)
                          .arg(s.duplicates)
                          .arg(s.failed);
            if (item) {
                item->setText(0, text);
                item->setIcon(0, style()->standardIcon(error.isEmpty() && s.failed == 0
                                                           ? QStyle::SP_DialogApplyButton
                                                           : QStyle::SP_MessageBoxWarning));
            }
            statusBar()->showMessage(text, 8000);
            refreshLibrary();
            emit importFinished(job);
        });
}

void MainWindow::importPaths(const QStringList& paths) {
    if (paths.isEmpty()) return;
    runner_->start(paths);
}

bool MainWindow::importSamples() {
    // The sample files rather than the folder, which also holds the notes on their sources.
    const QStringList files = sampleDocuments(samplesFolder_);
    if (files.isEmpty()) return false;
    PipelineOptions options;
    options.collection = tr("Samples");
    // A second click imports nothing new: the pipeline knows the files.
    runner_->start(files, options);
    return true;
}

void MainWindow::updateEmptyLibraryHint() {
    emptyHint_->setVisible(model_->documentCount() == 0);
}

void MainWindow::refreshLibrary() {
    if (!docs_) return;
    QString error;
    const QList<qint64> selected = selectedDocuments();
    if (!model_->refresh(*docs_, &error)) {
        statusBar()->showMessage(tr("The library could not be read: %1").arg(error));
        return;
    }
    tree_->expandAll();
    updateEmptyLibraryHint();
    for (qint64 id : selected)
        if (QModelIndex index = model_->indexOfDocument(id); index.isValid())
            tree_->selectionModel()->select(index, QItemSelectionModel::Select |
                                                       QItemSelectionModel::Rows);
    emit libraryRefreshed();
}

bool MainWindow::openDocument(qint64 id) {
    if (!docs_) return false;
    auto record = docs_->document(id);
    if (!record || !record->has_value()) {
        statusBar()->showMessage(tr("Document %1 is not in the library.").arg(id));
        return false;
    }
    auto text = docs_->text(id);
    auto spans = docs_->spans(id);
    documents_->openDocument(**record, text ? *text : QString(),
                             spans ? std::move(*spans) : std::vector<SourceSpan>());
    if (chatDocuments_.isEmpty() || !chatDocuments_.contains(id)) chatAbout({id});
    return true;
}

QList<qint64> MainWindow::selectedDocuments() const {
    QList<qint64> ids;
    for (const QModelIndex& index : tree_->selectionModel()->selectedRows(0)) {
        if (const qint64 id = index.data(LibraryModel::DocumentIdRole).toLongLong(); id > 0) {
            if (!ids.contains(id)) ids << id;
            continue;
        }
        // A collection stands for all its documents.
        for (int row = 0; row < model_->rowCount(index); ++row) {
            const qint64 id =
                model_->index(row, 0, index).data(LibraryModel::DocumentIdRole).toLongLong();
            if (id > 0 && !ids.contains(id)) ids << id;
        }
    }
    return ids;
}

void MainWindow::onSelectionChanged() {
    const QList<qint64> ids = selectedDocuments();
    if (!ids.isEmpty()) chatAbout(ids);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (!event->mimeData()->hasUrls()) return;
    for (const QUrl& url : event->mimeData()->urls())
        if (url.isLocalFile()) {
            event->acceptProposedAction();
            return;
        }
}

void MainWindow::dropEvent(QDropEvent* event) {
    if (importDropped(event->mimeData())) event->acceptProposedAction();
}

bool MainWindow::importDropped(const QMimeData* mime) {
    QStringList paths;
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile()) paths << url.toLocalFile();
    importPaths(paths);
    return !paths.isEmpty();
}

} // namespace folio
