module github.com/llmboot/llmboot

go 1.26
