"""The task layer: the jobs behind scripts/ (pipeline, training, recommendation evaluation, comparison, Spotify,
run tracking). The only library code that knows Hydra configs and run directories."""
