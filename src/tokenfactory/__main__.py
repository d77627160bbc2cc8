from tokenfactory.cli import app

app(prog_name="tokenfactory")
