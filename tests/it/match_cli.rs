// placeholder until the match CLI tests land
