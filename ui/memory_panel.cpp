#include "memory_panel.h"

#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLineSeries>
#include <QLocale>
#include <QTextDocument>
#include <QVBoxLayout>
#include <QValueAxis>

namespace folio {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr int kHistoryPoints = 600;
// The bar's two rows: what the memory holds by kind, and which document it belongs to.
constexpr int kByKind = 0;
constexpr int kByDocument = 1;

double mib(quint64 bytes) {
    return double(bytes) / kMiB;
}

struct Kind {
    QString name;
    QColor color;
};

// The engine's categories, then the rest of the used memory; "Free" closes the bar only.
const QList<Kind>& kinds() {
    static const QList<Kind> list = {
        {QObject::tr("Weights"), QColor(87, 117, 144)},
        {QObject::tr("KV cache"), QColor(243, 114, 44)},
        {QObject::tr("Compressed keys"), QColor(144, 92, 170)},
        {QObject::tr("Linear state"), QColor(67, 170, 139)},
        {QObject::tr("Checkpoints"), QColor(77, 144, 142)},
        {QObject::tr("Workspace"), QColor(249, 199, 79)},
        {QObject::tr("Other"), QColor(190, 190, 190)},
        {QObject::tr("Free"), QColor(232, 232, 232)},
    };
    return list;
}
constexpr int kOther = 6;
constexpr int kFree = 7;

// Resident documents get shades of blue, in the order they appear.
QColor contextColor(int index) {
    static const QList<QColor> shades = {QColor(39, 125, 161), QColor(84, 160, 210),
                                         QColor(30, 80, 140), QColor(130, 190, 230),
                                         QColor(60, 110, 190)};
    return shades[index % shades.size()];
}

QChartView* chartView(QChart* chart, QWidget* parent) {
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setBackgroundRoundness(0);
    auto* view = new QChartView(chart, parent);
    view->setRenderHint(QPainter::Antialiasing);
    return view;
}

} // namespace

QString formatBytes(quint64 bytes) {
    return QLocale().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeTraditionalFormat);
}

MemoryPanel::MemoryPanel(QWidget* parent) : QWidget(parent) {
    banner_ = new QLabel(tr("No CUDA GPU in use — running on the CPU"), this);
    banner_->setStyleSheet(QStringLiteral(
        "background: #fff4d6; color: #6b4e00; padding: 4px; border: 1px solid #e6c76a;"));
    banner_->hide();
    summary_ = new QLabel(tr("No model loaded."), this);
    summary_->setWordWrap(true);
    legend_ = new QLabel(this);
    legend_->setWordWrap(true);
    legend_->setTextFormat(Qt::RichText);
    // Long document names must not widen the whole side panel; the key wraps instead.
    legend_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    buildBars();
    buildHistory();

    auto* barView = chartView(barChart_, this);
    barView->setMinimumHeight(170);
    auto* historyView = chartView(historyChart_, this);
    historyView->setMinimumHeight(170);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(banner_);
    layout->addWidget(summary_);
    layout->addWidget(barView, 3);
    layout->addWidget(legend_);
    layout->addWidget(historyView, 2);
    clock_.start();
}

void MemoryPanel::buildBars() {
    bars_ = new QHorizontalStackedBarSeries;
    for (const Kind& kind : kinds()) {
        auto* set = new QBarSet(kind.name);
        set->append({0, 0});
        set->setColor(kind.color);
        set->setBorderColor(kind.color);
        bars_->append(set);
        kindSets_.append(set);
    }
    barChart_ = new QChart;
    barChart_->addSeries(bars_);
    barChart_->setTitle(tr("Memory now (MiB)"));
    barChart_->legend()->hide();
    auto* rows = new QBarCategoryAxis;
    rows->append({tr("By kind"), tr("By document")});
    barChart_->addAxis(rows, Qt::AlignLeft);
    bars_->attachAxis(rows);
    barAxis_ = new QValueAxis;
    barAxis_->setLabelFormat(QStringLiteral("%.0f"));
    barChart_->addAxis(barAxis_, Qt::AlignBottom);
    bars_->attachAxis(barAxis_);
}

void MemoryPanel::buildHistory() {
    historyChart_ = new QChart;
    historyChart_->setTitle(tr("Memory over time (MiB)"));
    historyChart_->legend()->hide(); // the key above names the same colours
    timeAxis_ = new QValueAxis;
    timeAxis_->setTitleText(tr("seconds"));
    timeAxis_->setLabelFormat(QStringLiteral("%.0f"));
    memoryAxis_ = new QValueAxis;
    memoryAxis_->setLabelFormat(QStringLiteral("%.0f"));
    historyChart_->addAxis(timeAxis_, Qt::AlignBottom);
    historyChart_->addAxis(memoryAxis_, Qt::AlignLeft);
    // Each band lies between the cumulative top of the kinds below it and its own top. The chart
    // owns the line series, and removes its series before its children go.
    QLineSeries* below = nullptr;
    for (int i = 0; i < kFree; ++i) {
        auto* top = new QLineSeries(historyChart_);
        auto* band = new QAreaSeries(top, below);
        band->setName(kinds()[i].name);
        band->setColor(kinds()[i].color);
        band->setBorderColor(kinds()[i].color.darker(120));
        historyChart_->addSeries(band);
        band->attachAxis(timeAxis_);
        band->attachAxis(memoryAxis_);
        bandTops_.append(top);
        below = top;
    }
}

void MemoryPanel::setContextTitle(const QString& key, const QString& title) {
    contextTitles_.insert(key, title);
    if (QBarSet* set = contextSets_.value(key)) {
        set->setLabel(title);
        updateLegend();
    }
}

void MemoryPanel::update(const MemoryReadout& r) {
    banner_->setVisible(!r.gpu);
    const QList<quint64> engine = {r.weights,     r.kvCache,     r.compressedKeys,
                                   r.linearState, r.checkpoints, r.workspace};
    quint64 engineBytes = 0;
    for (quint64 bytes : engine) engineBytes += bytes;
    // On the GPU the bars span the device; on the CPU they span the process.
    const quint64 span = r.gpu ? r.deviceTotal : qMax(r.processRss, engineBytes);
    const quint64 used = r.gpu ? r.deviceTotal - qMin(r.deviceFree, r.deviceTotal) : span;
    QList<quint64> byKind = engine;
    byKind << (used > engineBytes ? used - engineBytes : 0);
    for (int i = 0; i < byKind.size(); ++i) kindSets_[i]->replace(kByKind, mib(byKind[i]));
    const quint64 free = r.gpu ? r.deviceFree : 0;
    kindSets_[kFree]->replace(kByKind, mib(free));
    kindSets_[kFree]->replace(kByDocument, mib(free));
    showContexts(r.perDocument, used, r.weights);
    barAxis_->setRange(0, qMax(1.0, mib(qMax(span, used))));
    appendHistory(byKind, used);
    updateLegend();

    summary_->setText(r.gpu ? tr("GPU: %1 used of %2, %3 free · engine %4 · process %5")
                                  .arg(formatBytes(used), formatBytes(r.deviceTotal),
                                       formatBytes(r.deviceFree), formatBytes(engineBytes),
                                       formatBytes(r.processRss))
                            : tr("Process memory: %1 · engine %2")
                                  .arg(formatBytes(r.processRss), formatBytes(engineBytes)));
}

// The second bar: the shared weights, then each resident context, then the rest.
void MemoryPanel::showContexts(const QMap<QString, quint64>& perDocument, quint64 used,
                               quint64 weights) {
    for (auto it = contextSets_.begin(); it != contextSets_.end();) {
        if (perDocument.contains(it.key())) {
            ++it;
            continue;
        }
        bars_->remove(it.value()); // deletes the set
        it = contextSets_.erase(it);
    }
    quint64 documents = 0;
    for (auto it = perDocument.begin(); it != perDocument.end(); ++it) {
        QBarSet* set = contextSets_.value(it.key());
        if (!set) {
            set = new QBarSet(contextTitles_.value(it.key(), it.key()));
            set->append({0, 0});
            set->setColor(contextColor(int(contextSets_.size())));
            bars_->insert(bars_->count() - 2, set); // before Other and Free
            contextSets_.insert(it.key(), set);
        }
        set->replace(kByDocument, mib(it.value()));
        documents += it.value();
    }
    kindSets_[0]->replace(kByDocument, mib(weights));
    const quint64 known = weights + documents;
    kindSets_[kOther]->replace(kByDocument, mib(used > known ? used - known : 0));
}

void MemoryPanel::appendHistory(const QList<quint64>& byKind, quint64 used) {
    const double t = double(clock_.elapsed()) / 1000.0;
    double top = 0;
    for (int i = 0; i < bandTops_.size(); ++i) {
        top += mib(byKind[i]);
        bandTops_[i]->append(t, top);
        if (bandTops_[i]->count() > kHistoryPoints) bandTops_[i]->remove(0);
    }
    peakMiB_ = qMax(peakMiB_, qMax(top, mib(used)));
    const double first = bandTops_[0]->at(0).x();
    timeAxis_->setRange(first, qMax(t, first + 1));
    // Whole seconds would repeat labels while the chart spans only a few of them.
    timeAxis_->setLabelFormat(t - first < 10 ? QStringLiteral("%.1f") : QStringLiteral("%.0f"));
    memoryAxis_->setRange(0, peakMiB_ * 1.1 + 1);
}

// One entry per part of the bars that holds anything: the kinds, then the resident documents.
void MemoryPanel::updateLegend() {
    auto entry = [](QBarSet* set, int row) { // QBarSet::color() is not const
        return QStringLiteral("<span style=\"color:%1\">■</span>&nbsp;%2&nbsp;%3")
            .arg(set->color().name(),
                 set->label().toHtmlEscaped().replace(u' ', QStringLiteral("&nbsp;")),
                 formatBytes(quint64(set->at(row) * kMiB)).replace(u' ', QStringLiteral("&nbsp;")));
    };
    QStringList kindsShown, documents;
    for (QBarSet* set : kindSets_)
        if (set->at(kByKind) > 0) kindsShown << entry(set, kByKind);
    for (QBarSet* set : bars_->barSets())
        if (!kindSets_.contains(set)) documents << entry(set, kByDocument);
    QString html = kindsShown.join(QStringLiteral(" &nbsp; "));
    if (!documents.isEmpty())
        html += tr("<br>Resident documents: %1").arg(documents.join(QStringLiteral(" &nbsp; ")));
    legend_->setText(html);
}

QString MemoryPanel::legendText() const {
    QTextDocument doc;
    doc.setHtml(legend_->text());
    return doc.toPlainText();
}

bool MemoryPanel::cpuBannerShown() const {
    return !banner_->isHidden();
}
QString MemoryPanel::summary() const {
    return summary_->text();
}
int MemoryPanel::historySize() const {
    return bandTops_[0]->count();
}

double MemoryPanel::categoryMiB(const QString& name) const {
    for (const QBarSet* set : kindSets_)
        if (set->label() == name) return set->at(kByKind);
    return -1;
}

double MemoryPanel::contextMiB(const QString& key) const {
    const QBarSet* set = contextSets_.value(key);
    return set ? set->at(kByDocument) : -1;
}

QStringList MemoryPanel::contextLegend() const {
    QStringList names;
    for (const QBarSet* set : bars_->barSets())
        if (!kindSets_.contains(const_cast<QBarSet*>(set))) names << set->label();
    return names;
}

double MemoryPanel::historyTopMiB(const QString& category) const {
    for (int i = 0; i < bandTops_.size(); ++i)
        if (kinds()[i].name == category && bandTops_[i]->count() > 0)
            return bandTops_[i]->at(bandTops_[i]->count() - 1).y();
    return -1;
}

} // namespace folio
