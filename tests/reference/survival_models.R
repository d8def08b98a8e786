# Reference values for impact.survival's models beyond Cox: accelerated failure time (survreg),
# the proportional-hazards check (cox.zph) and Gray's test (cmprsk::cuminc).
#
# Run from the repository root:   Rscript tests/reference/survival_models.R
# Writes tests/reference/fixtures/survival_aft*.csv, survival_zph*.csv and survival_gray.csv.
# pytest only reads these files; the test suite never calls R. Every CSV starts with one comment
# line naming R and package versions. Data: rossi.csv and mgus2.csv (see survival.R).

suppressPackageStartupMessages(library(survival))

fixdir <- file.path("tests", "reference", "fixtures")
header <- sprintf("# R %s, survival %s; written by tests/reference/survival_models.R",
                  paste(R.version$major, R.version$minor, sep = "."),
                  as.character(packageVersion("survival")))

write_fixture <- function(df, name, extra = "") {
  path <- file.path(fixdir, name)
  con <- file(path, "w")
  writeLines(paste0(header, extra), con)
  close(con)
  suppressWarnings(write.table(df, path, sep = ",", row.names = FALSE, append = TRUE,
                               qmethod = "double", col.names = TRUE))
}

options(digits = 15)
rossi <- read.csv(file.path(fixdir, "rossi.csv"), comment.char = "#")
f_all <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio

# ---- accelerated failure time (survreg) ---------------------------------------------------------
# Converged tightly (rel.tolerance 1e-13) so that the fixture is the maximum, not R's stopping point.
# var is R's fit$var (robust when cluster/robust given), naive_var the inverse information; both
# include Log(scale) as the last row/column, as vcov(survreg) does.
# survival 3.5-3's survreg makes its robust variance from *unweighted* dfbeta residuals
# (crossprod(rowsum(residuals(fit, "dfbeta"), cluster))), so with case weights its sandwich mixes a
# weighted bread with an unweighted meat: constant weights of 5 shrink the robust variance 25-fold,
# and integer weights do not equal duplicated rows (therneau/survival issue #287). coxph weights
# its dfbeta. var_weighted is the sandwich from R's own weighted dfbeta residuals
# (residuals(fit, "dfbeta", weighted = TRUE)), the coxph convention; equal to var without weights.
ctl <- survreg.control(rel.tolerance = 1e-13, iter.max = 200)
aft_coef <- list()
aft_vcov <- list()
for (dist in c("weibull", "lognormal")) {
  models <- list(
    plain = survreg(f_all, data = rossi, dist = dist, control = ctl),
    weighted = survreg(f_all, data = rossi, dist = dist, weights = w, control = ctl),
    robust = survreg(f_all, data = rossi, dist = dist, robust = TRUE, control = ctl),
    cluster = survreg(f_all, data = rossi, dist = dist, cluster = clus, control = ctl),
    weighted_cluster = survreg(f_all, data = rossi, dist = dist, weights = w, cluster = clus,
                               control = ctl),
    fin_only = survreg(Surv(week, arrest) ~ fin, data = rossi, dist = dist, weights = w,
                       cluster = clus, control = ctl)
  )
  for (nm in names(models)) {
    fit <- models[[nm]]
    v <- fit$var
    nv <- if (is.null(fit$naive.var)) fit$var else fit$naive.var
    vw <- v
    if (!is.null(fit$naive.var)) {
      cl <- if (nm %in% c("cluster", "weighted_cluster", "fin_only")) rossi$clus else seq_len(nrow(rossi))
      fw <- fit
      fw$weights <- if (nm %in% c("weighted", "weighted_cluster", "fin_only")) rossi$w else NULL
      fw$var <- fit$naive.var   # residuals(type = "dfbeta") multiply the score by fit$var
      r <- rowsum(residuals(fw, "dfbeta", weighted = !is.null(fw$weights)), cl)
      vw <- crossprod(r)
    }
    terms <- c(names(coef(fit)), "Log(scale)")
    aft_coef[[length(aft_coef) + 1]] <- data.frame(
      dist = dist, model = nm, term = terms, estimate = c(unname(coef(fit)), log(fit$scale)),
      se = sqrt(diag(nv)), robust_se = sqrt(diag(v)),
      robust_se_weighted = sqrt(diag(vw)), loglik = fit$loglik[2],
      robust = !is.null(fit$naive.var), iter = fit$iter)
    vc <- expand.grid(term1 = terms, term2 = terms, stringsAsFactors = FALSE)
    vc$var <- as.vector(v)
    vc$naive_var <- as.vector(nv)
    vc$var_weighted <- as.vector(vw)
    vc$dist <- dist
    vc$model <- nm
    aft_vcov[[length(aft_vcov) + 1]] <- vc[, c("dist", "model", "term1", "term2", "var", "naive_var",
                                         "var_weighted")]
  }
}
write_fixture(do.call(rbind, aft_coef), "survival_aft_coef.csv")
write_fixture(do.call(rbind, aft_vcov), "survival_aft_vcov.csv")

# ---- proportional-hazards check (cox.zph) -------------------------------------------------------
# survival 3.x's cox.zph: score test of beta(t) = beta + gamma g(t) per term and GLOBAL, and the
# scaled Schoenfeld residuals (fit$y) against transformed time (fit$x).
f_str <- Surv(week, arrest) ~ fin + age + race + mar + paro + prio + strata(wexp)
zph_models <- list(
  efron_plain = coxph(f_all, data = rossi),
  efron_weighted = coxph(f_all, data = rossi, weights = w),
  efron_strata_weighted = coxph(f_str, data = rossi, weights = w),
  breslow_plain = coxph(f_all, data = rossi, ties = "breslow")
)
zph_tab <- list()
zph_res <- list()
for (nm in names(zph_models)) {
  for (tr in c("km", "identity", "rank")) {
    z <- cox.zph(zph_models[[nm]], transform = tr)
    zph_tab[[length(zph_tab) + 1]] <- data.frame(
      model = nm, transform = tr, term = rownames(z$table), chisq = z$table[, "chisq"],
      df = z$table[, "df"], p = z$table[, "p"])
    y <- z$y
    zph_res[[length(zph_res) + 1]] <- data.frame(
      model = nm, transform = tr, event = seq_len(nrow(y)), time = z$time, x = z$x,
      stratum = if (is.null(z$strata)) "all" else as.character(z$strata), y, check.names = FALSE)
  }
}
write_fixture(do.call(rbind, zph_tab), "survival_zph.csv")
res <- do.call(rbind, lapply(zph_res, function(d) {
  d$wexp <- if ("wexp" %in% names(d)) d$wexp else NA
  d[, c("model", "transform", "event", "time", "x", "stratum", "fin", "age", "race", "wexp", "mar",
        "paro", "prio")]
}))
write_fixture(res, "survival_zph_resid.csv")

# ---- Gray's test (cmprsk::cuminc) ----------------------------------------------------------------
# cuminc(ftime, fstatus, group, strata, rho)$Tests: one row per cause (stat, pv, df).
suppressPackageStartupMessages(library(cmprsk))
gray_extra <- sprintf(", cmprsk %s", as.character(packageVersion("cmprsk")))
mgus <- read.csv(file.path(fixdir, "mgus2.csv"), comment.char = "#")
mgus$agegrp <- cut(mgus$age, c(0, 60, 75, Inf), labels = c("young", "mid", "old"))
mgus$old <- as.integer(mgus$age >= 70)
gray_specs <- list(
  list("sex", mgus$sex, NULL, 0),
  list("sex_strata_old", mgus$sex, mgus$old, 0),
  list("agegrp", as.character(mgus$agegrp), NULL, 0),
  list("agegrp_strata_sex", as.character(mgus$agegrp), mgus$sex, 0),
  list("sex_rho1", mgus$sex, NULL, 1)
)
gray <- list()
for (sp in gray_specs) {
  ci <- if (is.null(sp[[3]])) cuminc(mgus$etime, mgus$event, sp[[2]], rho = sp[[4]], cencode = "censor")
        else cuminc(mgus$etime, mgus$event, sp[[2]], strata = sp[[3]], rho = sp[[4]], cencode = "censor")
  tst <- ci$Tests
  gray[[length(gray) + 1]] <- data.frame(test = sp[[1]], cause = rownames(tst), stat = tst[, "stat"],
                                         p = tst[, "pv"], df = tst[, "df"], rho = sp[[4]])
}
write_fixture(do.call(rbind, gray), "survival_gray.csv", gray_extra)
