#include "memory_panel.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLineSeries>
#include <QLocale>
#include <QVBoxLayout>
#include <QValueAxis>

namespace folio {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr int kHistoryPoints = 600;

const QStringList& categoryNames() {
    static const QStringList names = {QObject::tr("Weights"),         QObject::tr("KV cache"),
                                      QObject::tr("Compressed keys"), QObject::tr("Linear state"),
                                      QObject::tr("Checkpoints"),     QObject::tr("Workspace"),
                                      QObject::tr("Other"),           QObject::tr("Free")};
    return names;
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
    perDocument_ = new QLabel(this);
    perDocument_->setWordWrap(true);

    auto* bars = new QHorizontalStackedBarSeries;
    for (const QString& name : categoryNames()) {
        auto* set = new QBarSet(name);
        set->append(0);
        bars->append(set);
        sets_.append(set);
    }
    sets_.last()->setColor(QColor(220, 220, 220));
    barChart_ = new QChart;
    barChart_->addSeries(bars);
    barChart_->setTitle(tr("Memory now (MiB)"));
    auto* category = new QBarCategoryAxis;
    category->append(tr("Memory"));
    barChart_->addAxis(category, Qt::AlignLeft);
    bars->attachAxis(category);
    barAxis_ = new QValueAxis;
    barAxis_->setLabelFormat(QStringLiteral("%.0f"));
    barChart_->addAxis(barAxis_, Qt::AlignBottom);
    bars->attachAxis(barAxis_);

    usedSeries_ = new QLineSeries;
    usedSeries_->setName(tr("Used (MiB)"));
    lineChart_ = new QChart;
    lineChart_->addSeries(usedSeries_);
    lineChart_->setTitle(tr("Memory over time"));
    lineChart_->legend()->hide();
    timeAxis_ = new QValueAxis;
    timeAxis_->setTitleText(tr("seconds"));
    timeAxis_->setLabelFormat(QStringLiteral("%.0f"));
    memoryAxis_ = new QValueAxis;
    memoryAxis_->setLabelFormat(QStringLiteral("%.0f"));
    lineChart_->addAxis(timeAxis_, Qt::AlignBottom);
    lineChart_->addAxis(memoryAxis_, Qt::AlignLeft);
    usedSeries_->attachAxis(timeAxis_);
    usedSeries_->attachAxis(memoryAxis_);

    auto* barView = chartView(barChart_, this);
    barView->setMinimumHeight(170);
    auto* lineView = chartView(lineChart_, this);
    lineView->setMinimumHeight(150);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(banner_);
    layout->addWidget(summary_);
    layout->addWidget(barView, 3);
    layout->addWidget(lineView, 2);
    layout->addWidget(perDocument_);
    clock_.start();
}

void MemoryPanel::update(const MemoryReadout& r) {
    banner_->setVisible(!r.gpu);
    const quint64 engine =
        r.weights + r.kvCache + r.compressedKeys + r.linearState + r.checkpoints + r.workspace;
    // On the GPU the bar spans the device; on the CPU it spans the process.
    const quint64 span = r.gpu ? r.deviceTotal : qMax(r.processRss, engine);
    const quint64 used = r.gpu ? r.deviceTotal - qMin(r.deviceFree, r.deviceTotal) : span;
    const quint64 other = used > engine ? used - engine : 0;
    const quint64 free = r.gpu ? r.deviceFree : 0;
    const quint64 values[] = {r.weights,     r.kvCache,     r.compressedKeys,
                              r.linearState, r.checkpoints, r.workspace,
                              other,         free};
    for (int i = 0; i < sets_.size(); ++i) sets_[i]->replace(0, double(values[i]) / kMiB);
    barAxis_->setRange(0, qMax(1.0, double(qMax(span, used)) / kMiB));

    const double usedMiB = double(used) / kMiB;
    const double t = double(clock_.elapsed()) / 1000.0;
    usedSeries_->append(t, usedMiB);
    if (usedSeries_->count() > kHistoryPoints) usedSeries_->remove(0);
    peakMiB_ = qMax(peakMiB_, usedMiB);
    timeAxis_->setRange(usedSeries_->at(0).x(), qMax(t, usedSeries_->at(0).x() + 1));
    memoryAxis_->setRange(0, peakMiB_ * 1.1 + 1);

    summary_->setText(r.gpu ? tr("GPU: %1 used of %2, %3 free · engine %4 · process %5")
                                  .arg(formatBytes(used), formatBytes(r.deviceTotal),
                                       formatBytes(r.deviceFree), formatBytes(engine),
                                       formatBytes(r.processRss))
                            : tr("Process memory: %1 · engine %2")
                                  .arg(formatBytes(r.processRss), formatBytes(engine)));
    QStringList docs;
    for (auto it = r.perDocument.begin(); it != r.perDocument.end(); ++it)
        docs << QStringLiteral("%1: %2").arg(it.key(), formatBytes(it.value()));
    perDocument_->setText(docs.isEmpty() ? QString()
                                         : tr("Resident contexts — %1").arg(docs.join(" · ")));
}

bool MemoryPanel::cpuBannerShown() const {
    return !banner_->isHidden();
}
QString MemoryPanel::summary() const {
    return summary_->text();
}
int MemoryPanel::historySize() const {
    return usedSeries_->count();
}
QString MemoryPanel::perDocumentText() const {
    return perDocument_->text();
}

double MemoryPanel::categoryMiB(const QString& name) const {
    for (const QBarSet* set : sets_)
        if (set->label() == name) return set->at(0);
    return -1;
}

} // namespace folio
