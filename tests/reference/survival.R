# Reference values for impact.survival, computed with R's survival package.
#
# Run from the repository root:   Rscript tests/reference/survival.R
# Writes tests/reference/fixtures/survival_*.csv (and mgus2.csv). pytest only reads these files;
# the test suite never calls R. Every CSV starts with one comment line naming R and package versions.
#
# Data
#   rossi.csv  lifelines' Rossi recidivism data (exported from Python so both sides read identical
#              data) with three deterministic test columns: id, w (non-integer case weights) and
#              clus (matched sets of three rows).
#   mgus2.csv  survival::mgus2 with the competing-risks outcome of the survival "compete" vignette
#              (etime, event = censor / pcm / death) and deterministic w and clus columns.

suppressPackageStartupMessages(library(survival))

fixdir <- file.path("tests", "reference", "fixtures")
header <- sprintf("# R %s, survival %s; written by tests/reference/survival.R",
                  paste(R.version$major, R.version$minor, sep = "."),
                  as.character(packageVersion("survival")))

write_fixture <- function(df, name) {
  path <- file.path(fixdir, name)
  con <- file(path, "w")
  writeLines(header, con)
  close(con)
  suppressWarnings(write.table(df, path, sep = ",", row.names = FALSE, append = TRUE,
                               qmethod = "double", col.names = TRUE))
}

options(digits = 15)

rossi <- read.csv(file.path(fixdir, "rossi.csv"), comment.char = "#")

# ---- mgus2 export ---------------------------------------------------------------------------
m <- survival::mgus2
m$etime <- with(m, ifelse(pstat == 0, futime, ptime))
m$event <- with(m, ifelse(pstat == 0, 2 * death, 1))
m$event <- factor(m$event, 0:2, labels = c("censor", "pcm", "death"))
m$male <- as.integer(m$sex == "M")
i <- seq_len(nrow(m)) - 1
m$w <- round(0.5 + ((5 * i) %% 11) / 7, 4)
m$clus <- i %/% 2 + 1
m$sex <- as.character(m$sex)
m$event <- as.character(m$event)
write_fixture(m, "mgus2.csv")
mgus <- read.csv(file.path(fixdir, "mgus2.csv"), comment.char = "#")
mgus$event <- factor(mgus$event, c("censor", "pcm", "death"))

# ---- Kaplan-Meier -----------------------------------------------------------------------------
km_table <- function(fit, variant) {
  s <- fit
  se <- if (isTRUE(s$logse)) s$std.err * s$surv else s$std.err
  grp <- if (is.null(s$strata)) rep("all", length(s$time)) else
    rep(sub(".*=", "", names(s$strata)), s$strata)
  data.frame(variant = variant, group = grp, time = s$time, n_risk = s$n.risk,
             n_event = s$n.event, n_censor = s$n.censor, surv = s$surv, se = se,
             lower = s$lower, upper = s$upper)
}
km <- rbind(
  km_table(survfit(Surv(week, arrest) ~ 1, data = rossi, robust = TRUE), "plain"),
  km_table(survfit(Surv(week, arrest) ~ 1, data = rossi, weights = w), "weighted"),
  km_table(survfit(Surv(week, arrest) ~ 1, data = rossi, weights = w, cluster = clus),
           "weighted_cluster"),
  km_table(survfit(Surv(week, arrest) ~ fin, data = rossi, weights = w, cluster = clus),
           "group_weighted_cluster"),
  km_table(survfit(Surv(week, arrest) ~ 1, data = rossi, weights = w, cluster = clus,
                   conf.int = 0.9), "weighted_cluster_90")
)
write_fixture(km, "survival_km.csv")

fit <- survfit(Surv(week, arrest) ~ 1, data = rossi, weights = w, cluster = clus, influence = TRUE)
inf <- fit$influence.surv
keep <- match(c(10, 30, 52), fit$time)
km_inf <- data.frame(cluster = rep(as.integer(rownames(inf)), length(keep)),
                     time = rep(fit$time[keep], each = nrow(inf)),
                     influence = as.vector(inf[, keep]))
write_fixture(km_inf, "survival_km_influence.csv")

# ---- Aalen-Johansen (mgus2, progression vs death) --------------------------------------------
aj_table <- function(fit, variant) {
  grp <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    rep(sub(".*=", "", names(fit$strata)), fit$strata)
  states <- fit$states
  out <- list()
  for (k in seq_along(states)) {
    out[[k]] <- data.frame(variant = variant, group = grp, time = fit$time, state = states[k],
                           n_risk = fit$n.risk[, 1], pstate = fit$pstate[, k],
                           se = fit$std.err[, k], lower = fit$lower[, k], upper = fit$upper[, k])
  }
  out <- do.call(rbind, out)
  out$state[out$state == "(s0)"] <- "none"
  out
}
aj_plain <- survfit(Surv(etime, event) ~ sex, data = mgus, id = id)
aj_w <- survfit(Surv(etime, event) ~ sex, data = mgus, id = id, weights = w, influence = TRUE)
aj <- rbind(aj_table(aj_plain, "plain"), aj_table(aj_w, "weighted"))

# survival 3.5-3's multi-state survfit computes the influence per subject (id) and does not use
# 'cluster' (survfitCI passes id, not cluster, to its C routine). So the clustered standard
# errors are made here from R's own per-subject influence, summed within clusters (rowsum), which
# is what survfit documents for 'cluster'. influence.pstate is subjects x (1 + times) x states;
# its first time column is the starting point, and it holds the derivative with respect to the
# subject's weight (std.err = sqrt(colSums((w * influence)^2))), so it is multiplied by w here.
clustered <- list()
comb <- list()
for (g in seq_along(aj_w$influence.pstate)) {
  ip <- aj_w$influence.pstate[[g]]
  rows <- sum(aj_w$strata[seq_len(g - 1)]) + seq_len(aj_w$strata[g])
  fit_g <- list(time = aj_w$time[rows], pstate = aj_w$pstate[rows, ], n.risk = aj_w$n.risk[rows, ],
                states = aj_w$states)
  ids <- as.numeric(rownames(ip))
  cl <- mgus$clus[match(ids, mgus$id)]
  ip <- ip * mgus$w[match(ids, mgus$id)]
  ntime <- length(fit_g$time)
  grp <- c("F", "M")[g]
  for (k in 2:3) {
    infk <- ip[, -1, k]
    se <- sqrt(colSums(rowsum(infk, cl)^2))
    p <- fit_g$pstate[, k]
    z <- qnorm(0.975)
    clustered[[length(clustered) + 1]] <- data.frame(
      variant = "weighted_cluster", group = grp, time = fit_g$time, state = fit_g$states[k],
      n_risk = fit_g$n.risk[, 1], pstate = p, se = se,
      lower = ifelse(p > 0, p * exp(-z * se / p), NA),
      upper = ifelse(p > 0, pmin(1, p * exp(z * se / p)), NA))
  }
  both <- ip[, -1, 2] + ip[, -1, 3]
  comb[[g]] <- data.frame(group = grp, time = fit_g$time,
                          estimate = fit_g$pstate[, 2] + fit_g$pstate[, 3],
                          se = sqrt(colSums(rowsum(both, cl)^2)),
                          se_unclustered = sqrt(colSums(both^2)))
}
aj <- rbind(aj, do.call(rbind, clustered))
write_fixture(aj, "survival_aj.csv")
write_fixture(do.call(rbind, comb), "survival_aj_combined.csv")

ip <- aj_w$influence.pstate[[1]]
ip <- ip * mgus$w[match(as.numeric(rownames(ip)), mgus$id)]   # weight x derivative
fit_1 <- list(time = aj_w$time[seq_len(aj_w$strata[1])])
keep <- match(c(12, 60, 240), fit_1$time)
aj_inf <- data.frame(id = rep(as.integer(rownames(ip)), length(keep)),
                     time = rep(fit_1$time[keep], each = nrow(ip)),
                     influence_pcm = as.vector(ip[, keep + 1, 2]),
                     influence_death = as.vector(ip[, keep + 1, 3]))
write_fixture(aj_inf, "survival_aj_influence.csv")

# ---- Cox proportional hazards (Rossi) --------------------------------------------------------
cox_rows <- function(fit, model) {
  b <- coef(fit)
  v <- fit$var
  nv <- if (is.null(fit$naive.var)) fit$var else fit$naive.var
  terms <- names(b)
  coefs <- data.frame(model = model, term = terms, coef = unname(b),
                      se = sqrt(diag(nv)), robust_se = sqrt(diag(v)),
                      loglik = fit$loglik[2], loglik0 = fit$loglik[1],
                      robust = !is.null(fit$naive.var))
  vc <- expand.grid(term1 = terms, term2 = terms, stringsAsFactors = FALSE)
  vc$var <- as.vector(v)
  vc$naive_var <- as.vector(nv)
  vc$model <- model
  list(coefs = coefs, vcov = vc[, c("model", "term1", "term2", "var", "naive_var")])
}
f_all <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio
f_str <- Surv(week, arrest) ~ fin + age + race + mar + paro + prio + strata(wexp)
cox_models <- list(
  efron_plain = coxph(f_all, data = rossi),
  efron_weighted = coxph(f_all, data = rossi, weights = w),
  efron_robust = coxph(f_all, data = rossi, robust = TRUE),
  efron_cluster = coxph(f_all, data = rossi, cluster = clus),
  efron_weighted_cluster = coxph(f_all, data = rossi, weights = w, cluster = clus),
  efron_strata_weighted_cluster = coxph(f_str, data = rossi, weights = w, cluster = clus),
  breslow_weighted_cluster = coxph(f_all, data = rossi, weights = w, cluster = clus,
                                   ties = "breslow")
)
res <- lapply(names(cox_models), function(nm) cox_rows(cox_models[[nm]], nm))
write_fixture(do.call(rbind, lapply(res, `[[`, "coefs")), "survival_cox_coef.csv")
write_fixture(do.call(rbind, lapply(res, `[[`, "vcov")), "survival_cox_vcov.csv")

# dfbeta residuals (weighted, as the robust variance uses them) for the weighted fit
fit <- cox_models$efron_weighted
dfb <- residuals(fit, type = "dfbeta", weighted = TRUE)
colnames(dfb) <- names(coef(fit))
write_fixture(data.frame(row = seq_len(nrow(dfb)) - 1, dfb), "survival_cox_dfbeta.csv")

# cause-specific Cox on mgus2
cs_models <- list(
  cs_pcm = coxph(Surv(etime, event == "pcm") ~ age + male, data = mgus, weights = w,
                 cluster = clus),
  cs_death = coxph(Surv(etime, event == "death") ~ age + male, data = mgus, weights = w,
                   cluster = clus)
)
res <- lapply(names(cs_models), function(nm) cox_rows(cs_models[[nm]], nm))
write_fixture(do.call(rbind, lapply(res, `[[`, "coefs")), "survival_cause_specific.csv")

# ---- restricted mean (Rossi) -----------------------------------------------------------------
# R's printed se(rmean) is its Greenwood-type formula (survmean); the IJ standard error is made
# here from R's own influence matrix: the RMST influence is the area under each influence row.
rm_rows <- list()
for (tau in c(20, 40, 52)) {
  f0 <- survfit(Surv(week, arrest) ~ 1, data = rossi)
  tab <- summary(f0, rmean = tau)$table
  fi <- survfit(Surv(week, arrest) ~ 1, data = rossi, weights = w, cluster = clus,
                influence = TRUE)
  keep <- fi$time < tau
  delta <- diff(c(fi$time[keep], tau))
  inf <- fi$influence.surv[, keep, drop = FALSE]
  rinf <- inf %*% delta
  area <- min(fi$time[1], tau) + sum(fi$surv[keep] * delta)
  rm_rows[[length(rm_rows) + 1]] <- data.frame(
    horizon = tau, rmean = unname(tab["rmean"]), se_rmean = unname(tab["se(rmean)"]),
    rmean_weighted = area, se_ij_weighted_cluster = sqrt(sum(rinf^2)))
}
write_fixture(do.call(rbind, rm_rows), "survival_rmst.csv")

# ---- log-rank tests ----------------------------------------------------------------------------
rossi$agegrp <- cut(rossi$age, c(0, 20, 25, 100), labels = c("young", "mid", "old"))
lr <- list()
add_lr <- function(name, sd) {
  df <- length(sd$n) - 1
  obs <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
  ex <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
  lr[[length(lr) + 1]] <<- data.frame(test = name, group = names(sd$n), observed = obs,
                                      expected = ex, chisq = sd$chisq, df = df)
}
add_lr("fin", survdiff(Surv(week, arrest) ~ fin, data = rossi))
add_lr("fin_strata_race", survdiff(Surv(week, arrest) ~ fin + strata(race), data = rossi))
add_lr("agegrp", survdiff(Surv(week, arrest) ~ agegrp, data = rossi))
lr <- do.call(rbind, lr)
# weighted / clustered log-rank: robust score test of a Breslow Cox model at beta = 0
sc <- list()
for (spec in list(list("fin_weighted_cluster", Surv(week, arrest) ~ factor(fin)),
                  list("agegrp_weighted_cluster", Surv(week, arrest) ~ agegrp),
                  list("fin_strata_race_weighted_cluster",
                       Surv(week, arrest) ~ factor(fin) + strata(race)))) {
  fit <- coxph(spec[[2]], data = rossi, weights = w, cluster = clus, ties = "breslow")
  sc[[length(sc) + 1]] <- data.frame(test = spec[[1]], rscore = unname(fit$rscore),
                                     score = unname(fit$score), df = length(coef(fit)))
}
write_fixture(lr, "survival_logrank.csv")
write_fixture(do.call(rbind, sc), "survival_logrank_robust.csv")

# ---- Fine-Gray (mgus2, progression with death as competing) ---------------------------------
fg_rows <- list()
for (spec in list(list("fg_pcm", "pcm", FALSE), list("fg_death", "death", FALSE),
                  list("fg_pcm_weighted", "pcm", TRUE))) {
  if (spec[[3]]) {
    fgd <- finegray(Surv(etime, event) ~ ., data = mgus[, c("etime", "event", "age", "male", "id",
                                                          "w")],
                    etype = spec[[2]], weights = w)
  } else {
    fgd <- finegray(Surv(etime, event) ~ ., data = mgus[, c("etime", "event", "age", "male", "id")],
                    etype = spec[[2]])
  }
  fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ age + male, weights = fgwt, data = fgd,
               cluster = id)
  fg_rows[[length(fg_rows) + 1]] <- data.frame(
    model = spec[[1]], term = names(coef(fit)), coef = unname(coef(fit)),
    se = sqrt(diag(fit$naive.var)), robust_se = sqrt(diag(fit$var)), nrow = nrow(fgd))
}
write_fixture(do.call(rbind, fg_rows), "survival_finegray.csv")
