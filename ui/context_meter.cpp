#include "context_meter.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>

namespace folio {

ContextMeter::ContextMeter(QWidget* parent) : QWidget(parent) {
    bar_ = new QProgressBar(this);
    bar_->setRange(0, 1000);
    bar_->setTextVisible(false);
    bar_->setFixedWidth(120);
    bar_->setMaximumHeight(14);
    label_ = new QLabel(this);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Context:"), this));
    layout->addWidget(bar_);
    layout->addWidget(label_);
    setSizePolicy(QSizePolicy::Maximum, QSizePolicy::Preferred);
    refresh();
}

void ContextMeter::setCapacity(qint64 tokens) {
    capacity_ = qMax<qint64>(0, tokens);
    refresh();
}

void ContextMeter::setUsed(qint64 tokens) {
    used_ = qMax<qint64>(0, tokens);
    refresh();
}

QString ContextMeter::text() const {
    return label_->text();
}

void ContextMeter::refresh() {
    const QLocale locale;
    if (capacity_ <= 0) {
        label_->setText(tr("%1 tokens · no model").arg(locale.toString(used_)));
        bar_->setValue(0);
        return;
    }
    bar_->setValue(int(qMin<double>(1000, 1000.0 * double(used_) / double(capacity_))));
    QString text = tr("%1 / %2 tokens").arg(locale.toString(used_), locale.toString(capacity_));
    if (overCapacity()) {
        text += tr(" — over capacity: not loaded whole, nothing is truncated");
        label_->setStyleSheet(QStringLiteral("color: #b00020; font-weight: bold;"));
    } else {
        label_->setStyleSheet(QString());
    }
    label_->setText(text);
    setToolTip(overCapacity() ? tr("The selected documents need more tokens than the model's "
                                   "context holds. Choose fewer documents.")
                              : tr("Tokens in the model's context and its capacity"));
}

} // namespace folio
