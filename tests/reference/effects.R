# Reference values for impact.estimate_effects on a matched sample, computed with R's survival.
#
# Run from the repository root:   Rscript tests/reference/effects.R
# Reads  tests/reference/fixtures/effects_matched.csv (matched synthetic data, no identifiers)
# Writes tests/reference/fixtures/effects_reference.csv; pytest only reads it.
#
# For each subgroup (all, female, male) and arm, survfit() gives the Aalen-Johansen cumulative
# incidence of work or studies (state 1; other exits = state 2 compete) and, with influence=TRUE,
# each row's infinitesimal-jackknife influence. The share difference's variance clusters on the
# matched set: sum over sets of (sum of treated influences - sum of control influences)^2.
# Restricted mean time not in work or studies up to h: h minus the area under the CIF, with its
# influence integrated the same way. Hazard ratio: coxph(..., ties = "efron", cluster = subclass).
# Time ratio: survreg(dist = "weibull", cluster = subclass). Subdistribution hazard ratio: finegray(etype = "ws", weights) then weighted coxph clustered on
# the matched set.

suppressPackageStartupMessages(library(survival))
fixdir <- file.path("tests", "reference", "fixtures")
d <- read.csv(file.path(fixdir, "effects_matched.csv"), comment.char = "#")
d$state <- factor(d$event, 0:2, labels = c("censor", "ws", "other"))
d$rowid <- seq_len(nrow(d))
horizons <- c(90, 180, 365)

step_at <- function(times, values, h) { k <- findInterval(h, times); if (k == 0) 0 else values[k] }

arm_fit <- function(sub) {
  fit <- survfit(Surv(duration, state) ~ 1, data = sub, weights = weights, id = rowid, influence = TRUE)
  j <- which(fit$states == "ws")
  list(time = fit$time, cif = fit$pstate[, j], infl = fit$influence.pstate[, -1, j, drop = TRUE],  # column 1 is time 0
       rowid = sub$rowid, subclass = sub$subclass)
}

out <- list()
add <- function(subgroup, estimand, horizon, estimate, se) {
  out[[length(out) + 1]] <<- data.frame(subgroup = subgroup, estimand = estimand, horizon = horizon,
                                        estimate = estimate, se = se)
}
for (g in c("all", "female", "male")) {
  sub <- if (g == "all") d else d[d$gender == g, ]
  ft <- arm_fit(sub[sub$participant == 1, ])
  fc <- arm_fit(sub[sub$participant == 0, ])
  for (h in horizons) {
    k_t <- findInterval(h, ft$time); k_c <- findInterval(h, fc$time)
    st <- ft$cif[k_t]; sc <- fc$cif[k_c]
    it <- ft$infl[, k_t]; ic <- fc$infl[, k_c]
    agg <- tapply(c(it, -ic), c(ft$subclass, fc$subclass), sum)
    add(g, "share_treated", h, st, sqrt(sum(it^2)))
    add(g, "share_control", h, sc, sqrt(sum(ic^2)))
    add(g, "share_diff", h, st - sc, sqrt(sum(agg^2)))
    rm_arm <- function(f) {
      keep <- f$time <= h
      tt <- f$time[keep]; w <- diff(c(tt, h))
      list(est = h - sum(f$cif[keep] * w), infl = -as.vector(f$infl[, keep, drop = FALSE] %*% w))
    }
    rt <- rm_arm(ft); rc <- rm_arm(fc)
    agg <- tapply(c(rt$infl, -rc$infl), c(ft$subclass, fc$subclass), sum)
    add(g, "rmst_diff", h, rt$est - rc$est, sqrt(sum(agg^2)))
  }
  cx <- coxph(Surv(duration, event == 1) ~ participant, data = sub, weights = weights,
              cluster = subclass, ties = "efron")
  add(g, "hazard_ratio", NA, exp(coef(cx)[[1]]), sqrt(vcov(cx)[1, 1]))
  sr <- survreg(Surv(duration, event == 1) ~ participant, data = sub, weights = weights,
                cluster = subclass, dist = "weibull")
  add(g, "time_ratio", NA, exp(coef(sr)[["participant"]]), sqrt(vcov(sr)["participant", "participant"]))
  fg <- finegray(Surv(duration, state) ~ ., data = sub, etype = "ws", weights = weights)
  fx <- coxph(Surv(fgstart, fgstop, fgstatus) ~ participant, data = fg, weights = fgwt,
              cluster = subclass, ties = "efron")
  add(g, "subdistribution_hazard_ratio", NA, exp(coef(fx)[[1]]), sqrt(vcov(fx)[1, 1]))
}
res <- do.call(rbind, out)
path <- file.path(fixdir, "effects_reference.csv")
writeLines(sprintf("# R %s.%s, survival %s; written by tests/reference/effects.R",
                   R.version$major, R.version$minor, packageVersion("survival")), path)
suppressWarnings(write.table(format(res, digits = 15), path, sep = ",", row.names = FALSE,
                             append = TRUE, quote = FALSE))
