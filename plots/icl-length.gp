# icl-length: test MSE vs prompt length L (He et al. ICML 2025, Fig. on length generalisation): the closed-form
# estimators (two-head TF at the authors' omega = 0.13, mu = 3.45; single head trained at L = 40; GD; debiased GD;
# ridge = Bayes optimal), +- 1 standard error, and the trained H-head models (smx-icl multihead, trained at L = 40). y_q's noise (0.1) is counted once. Data: smx-icl estimators.
load 'plots/common.gp'
f = datadir.'/icl-estimators.tsv'
m = datadir.'/icl-multihead-length.tsv'
set title 'Test MSE vs prompt length (d = 5, sigma^2 = 0.1; estimators of He et al. 2025; noise of y_q counted once)' font ',9'
set xlabel 'prompt length L'
set ylabel 'test MSE'
set logscale y
set key top right font ',8'
plot f using 'L':'tf2':'tf2_se' with yerrorlines ls 1 title 'two-head TF estimator (omega 0.13, mu 3.45)', \
     f using 'L':'single':'single_se' with yerrorlines ls 2 title 'single head (trained at L = 40)', \
     f using 'L':'gd':'gd_se' with yerrorlines ls 3 title 'GD (2 omega mu / L)', \
     f using 'L':'debiased_gd':'debiased_gd_se' with yerrorlines ls 4 title 'debiased GD', \
     f using 'L':'ridge':'ridge_se' with yerrorlines ls 5 title 'ridge, lambda = d sigma^2 (Bayes)', \
     f using 'L':'gd_theory' with lines ls 3 dt 2 title 'GD, closed-form expectation', \
     for [H in "1 2 4 8"] m using 'L':(column('H') == int(H) ? column('mse') : 1/0):'mse_se' with yerrorlines lw 1 dt 4 pt 6 title sprintf('trained, H = %s', H)
