"""The pure core: the desired catalog and the observed snapshot in, a Plan out. No I/O:
diff, planner, steps and versions decide; plan and plan_set are the data apply replays."""
