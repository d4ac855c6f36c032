#pragma once
// The main window: library sidebar with imports, documents in the middle, chat and engine
// panels on the right; it wires the widgets to the library and the engine.

#include "engine_worker.h"
#include "import_pipeline.h"
#include "settings_dialog.h"

#include <QMainWindow>

#include <memory>

class QLabel;
class QMimeData;
class QTreeView;
class QTreeWidget;
class QTreeWidgetItem;
class QTabWidget;

namespace folio {

class ChatPanel;
class ContextMeter;
class DocumentStore;
class DocumentView;
class ImportRunner;
class LibraryDatabase;
class LibraryModel;
class MemoryPanel;
class SpeedPanel;

struct MainWindowOptions {
    QString settingsFile;      // an INI file; empty: the platform's settings of "Folio"
    bool firstRunGuide = true; // show the guide when no usable model is configured
};

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const MainWindowOptions& options = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    void importPaths(const QStringList& paths);
    // What dropping `mime` on the window does: imports its local files and folders; false when
    // it holds none.
    bool importDropped(const QMimeData* mime);
    bool openDocument(qint64 id);
    // Makes the given documents the chat's subject.
    void chatAbout(const QList<qint64>& ids);
    bool exportConversation(const QString& path, QString* error = nullptr);
    void applySettings(const UiSettings& settings);
    void reloadModel();
    void refreshLibrary();
    // Opens a folio://doc/ID?start=S&end=E link.
    bool openLink(const QUrl& url);

    const UiSettings& settings() const { return settings_; }
    LibraryModel* libraryModel() const { return model_; }
    QTreeView* libraryView() const { return tree_; }
    QTreeWidget* importPanel() const { return imports_; }
    DocumentView* documentView() const { return documents_; }
    ChatPanel* chatPanel() const { return chat_; }
    MemoryPanel* memoryPanel() const { return memory_; }
    SpeedPanel* speedPanel() const { return speed_; }
    ContextMeter* contextMeter() const { return meter_; }
    QTabWidget* sideTabs() const { return sideTabs_; }
    EngineController* engine() const { return engine_; }
    ImportRunner* importRunner() const { return runner_; }
    bool modelReady() const { return modelReady_; }
    QString modelStatus() const;

signals:
    void libraryRefreshed();
    void importFinished(int job);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    void buildLayout();
    void connectEngine();
    void connectImports();
    void openSettings();
    void showFirstRunGuide(const QString& problem);
    void onSelectionChanged();
    void loadContext(const QString& key);
    void linkCitations(int messageIndex, const QString& answer);
    void setTokenCounter(const QString& modelDir);
    QList<qint64> selectedDocuments() const;

    std::unique_ptr<QSettings> store_;
    UiSettings settings_;
    MainWindowOptions options_;
    std::unique_ptr<LibraryDatabase> db_;
    std::unique_ptr<DocumentStore> docs_;
    LibraryModel* model_ = nullptr;
    QTreeView* tree_ = nullptr;
    QTreeWidget* imports_ = nullptr;
    DocumentView* documents_ = nullptr;
    ChatPanel* chat_ = nullptr;
    MemoryPanel* memory_ = nullptr;
    SpeedPanel* speed_ = nullptr;
    ContextMeter* meter_ = nullptr;
    QTabWidget* sideTabs_ = nullptr;
    QLabel* modelLabel_ = nullptr;
    EngineController* engine_ = nullptr;
    ImportRunner* runner_ = nullptr;
    QHash<int, QTreeWidgetItem*> jobItems_;
    QList<qint64> chatDocuments_;
    ModelInfo modelInfo_;
    qint64 contextTokens_ = 0;
    bool modelReady_ = false;
    QString loadedModelDir_;
};

} // namespace folio
