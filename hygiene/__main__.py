from hygiene.cli import main

main()
