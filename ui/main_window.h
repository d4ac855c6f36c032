#pragma once
// The main window: library sidebar with imports, documents in the middle, chat and engine
// panels on the right; it wires the widgets to the library and the engine.

#include "engine_worker.h"
#include "import_pipeline.h"
#include "settings.h"

#include <QMainWindow>

#include <memory>

class QLabel;
class QMimeData;
class QProgressBar;
class QPushButton;
class QToolButton;
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
    // Imports the bundled sample documents into a "Samples" collection; false when there are none.
    bool importSamples();
    // What dropping `mime` on the window does: imports its local files and folders; false when
    // it holds none.
    bool importDropped(const QMimeData* mime);
    bool openDocument(qint64 id);
    // Makes the given documents the chat's subject.
    void chatAbout(const QList<qint64>& ids);
    bool exportConversation(const QString& path, QString* error = nullptr);
    void applySettings(const SettingsValues& values);
    void reloadModel();
    void refreshLibrary();
    // Opens a folio://doc/ID?start=S&end=E link.
    bool openLink(const QUrl& url);

    const SettingsValues& settings() const { return values_; }
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
    QLabel* demoBanner() const { return demoBanner_; }
    QPushButton* samplesButton() const { return samplesButton_; }
    bool modelReady() const { return modelReady_; }
    QString modelStatus() const;
    // The folder the model was (or is being) loaded from.
    QString modelFolder() const { return loadedModelDir_; }

signals:
    void libraryRefreshed();
    void importFinished(int job);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    void buildLayout();
    QWidget* buildSidebar();
    void connectEngine();
    void buildModelStatus();
    void connectModelLoading();
    void showModelLoading(bool loading);
    void connectImports();
    void configureEngine();
    void openSettings();
    void showFirstRunGuide(const QString& problem);
    void onSelectionChanged();
    void loadContext(const QString& key);
    void linkCitations(int messageIndex, const QString& answer);
    void setTokenCounter(const QString& modelDir);
    void updateEmptyLibraryHint();
    QList<qint64> selectedDocuments() const;

    std::unique_ptr<Settings> store_;
    SettingsValues values_;
    MainWindowOptions options_;
    std::unique_ptr<LibraryDatabase> db_;
    std::unique_ptr<DocumentStore> docs_;
    LibraryModel* model_ = nullptr;
    QTreeView* tree_ = nullptr;
    QTreeWidget* imports_ = nullptr;
    QWidget* emptyHint_ = nullptr;
    QPushButton* samplesButton_ = nullptr;
    QString samplesFolder_;
    DocumentView* documents_ = nullptr;
    ChatPanel* chat_ = nullptr;
    MemoryPanel* memory_ = nullptr;
    SpeedPanel* speed_ = nullptr;
    ContextMeter* meter_ = nullptr;
    QTabWidget* sideTabs_ = nullptr;
    QLabel* modelLabel_ = nullptr;
    QProgressBar* modelProgress_ = nullptr; // while a model loads, with cancelModelLoad_
    QToolButton* cancelModelLoad_ = nullptr;
    QLabel* demoBanner_ = nullptr;
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
