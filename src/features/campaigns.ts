// Campaigns and automation, A/B experiments, budgets and ROI, KPIs, feedback
// (DESIGN.md capabilities 9–13): routes, the campaign award ledger operation, and crons.
import "../routes/campaigns";
import "../routes/experiments";
import "../routes/budgets";
import "../routes/kpis";
import "../routes/feedback";
import "../cron/campaigns";
import "../cron/messages";
import "../cron/kpis";
