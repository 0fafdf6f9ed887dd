"""Spreadsheets of the uploads context: the inspector and readers of uploaded books (a streaming reader of our
own for xlsx, the csv module for csv), and the openpyxl writer of the upload template and error reports."""
