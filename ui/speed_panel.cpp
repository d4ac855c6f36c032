#include "speed_panel.h"

#include <QChart>
#include <QChartView>
#include <QFormLayout>
#include <QLabel>
#include <QLineSeries>
#include <QVBoxLayout>
#include <QValueAxis>

namespace folio {
namespace {

QLabel* valueLabel(QWidget* parent) {
    auto* label = new QLabel(QStringLiteral("–"), parent);
    QFont font = label->font();
    font.setPointSizeF(font.pointSizeF() * 1.3);
    font.setBold(true);
    label->setFont(font);
    return label;
}

QString rate(double tokensPerSecond) {
    return tokensPerSecond > 0 ? QObject::tr("%1 tok/s").arg(tokensPerSecond, 0, 'f', 1)
                               : QStringLiteral("–");
}

} // namespace

SpeedPanel::SpeedPanel(QWidget* parent) : QWidget(parent) {
    banner_ = new QLabel(tr("No CUDA GPU in use — running on the CPU"), this);
    banner_->setStyleSheet(QStringLiteral(
        "background: #fff4d6; color: #6b4e00; padding: 4px; border: 1px solid #e6c76a;"));
    banner_->hide();
    ttft_ = valueLabel(this);
    prefill_ = valueLabel(this);
    decode_ = valueLabel(this);
    last_ = new QLabel(this);
    last_->setWordWrap(true);
    auto* form = new QFormLayout;
    form->addRow(tr("Time to first token"), ttft_);
    form->addRow(tr("Prefill"), prefill_);
    form->addRow(tr("Decode"), decode_);

    prefillSeries_ = new QLineSeries;
    prefillSeries_->setName(tr("Prefill tok/s"));
    prefillSeries_->setPointsVisible(true);
    decodeSeries_ = new QLineSeries;
    decodeSeries_->setName(tr("Decode tok/s"));
    decodeSeries_->setPointsVisible(true);
    chart_ = new QChart;
    chart_->addSeries(prefillSeries_);
    chart_->addSeries(decodeSeries_);
    chart_->setTitle(tr("Per answer"));
    chart_->setMargins(QMargins(2, 2, 2, 2));
    chart_->legend()->setAlignment(Qt::AlignBottom);
    xAxis_ = new QValueAxis;
    xAxis_->setTitleText(tr("answer"));
    xAxis_->setLabelFormat(QStringLiteral("%d"));
    xAxis_->setRange(0, 5);
    yAxis_ = new QValueAxis;
    yAxis_->setLabelFormat(QStringLiteral("%.0f"));
    chart_->addAxis(xAxis_, Qt::AlignBottom);
    chart_->addAxis(yAxis_, Qt::AlignLeft);
    for (QLineSeries* s : {prefillSeries_, decodeSeries_}) {
        s->attachAxis(xAxis_);
        s->attachAxis(yAxis_);
    }
    auto* view = new QChartView(chart_, this);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(180);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(banner_);
    layout->addLayout(form);
    layout->addWidget(last_);
    layout->addWidget(view, 1);
}

void SpeedPanel::updateLive(const EngineStats& live) {
    if (live.ttftSeconds > 0) ttft_->setText(tr("%1 s").arg(live.ttftSeconds, 0, 'f', 2));
    if (live.prefillTokPerSec > 0) prefill_->setText(rate(live.prefillTokPerSec));
    if (live.decodeTokPerSec > 0) decode_->setText(rate(live.decodeTokPerSec));
}

void SpeedPanel::addAnswer(const EngineStats& stats) {
    updateLive(stats);
    const int n = prefillSeries_->count() + 1;
    prefillSeries_->append(n, stats.prefillTokPerSec);
    decodeSeries_->append(n, stats.decodeTokPerSec);
    peak_ = qMax(peak_, qMax(stats.prefillTokPerSec, stats.decodeTokPerSec));
    xAxis_->setRange(qMax(0, n - 20), qMax(5, n + 1));
    yAxis_->setRange(0, peak_ * 1.15 + 1);
    last_->setText(tr("Last answer: %1 prompt tokens, %2 generated")
                       .arg(stats.promptTokens)
                       .arg(stats.generatedTokens));
}

QString SpeedPanel::ttftText() const {
    return ttft_->text();
}
QString SpeedPanel::prefillText() const {
    return prefill_->text();
}
QString SpeedPanel::decodeText() const {
    return decode_->text();
}
int SpeedPanel::answerCount() const {
    return decodeSeries_->count();
}
QPointF SpeedPanel::answerRates(int index) const {
    if (index < 0 || index >= decodeSeries_->count()) return {};
    return {prefillSeries_->at(index).y(), decodeSeries_->at(index).y()};
}
void SpeedPanel::setCpuBanner(bool cpu) {
    banner_->setVisible(cpu);
}
bool SpeedPanel::cpuBannerShown() const {
    return !banner_->isHidden();
}

} // namespace folio
